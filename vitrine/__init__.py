"""Vitrine: an open recommender warehouse for flash-sale e-commerce."""

__version__ = "0.1.0"
