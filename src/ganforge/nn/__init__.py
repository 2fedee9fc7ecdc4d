"""Shared layers."""
from .init import init_normal  # noqa: F401
