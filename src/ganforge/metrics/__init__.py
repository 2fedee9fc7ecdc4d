"""Metrics, one module per area (forecast.py: forecast errors and baselines)."""
