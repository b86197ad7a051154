"""Command-line front end of the modality-gap proof checker (presentation only)."""

from verify import __version__

__all__ = ["__version__"]
