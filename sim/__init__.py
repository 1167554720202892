"""LEAP tokenization scenario simulator: tokenized and conventional markets under policy levers."""

__version__ = "0.1.0"
