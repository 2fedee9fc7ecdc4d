"""Metrics, one module per area (forecast.py: forecast errors and baselines; image.py: FID, KID,
IS, precision/recall on feature vectors; extractors.py: where image features come from;
generative.py: a generator, or a set of images, against real data)."""
