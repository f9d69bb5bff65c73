"""Fallback: keep a small business working when its cloud systems go down."""

__version__ = "0.1.0"
