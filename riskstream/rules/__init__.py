"""Shipped rule files: the default pattern pack (``pack/``) and the loader."""
