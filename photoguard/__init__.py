"""photoguard: keep patient information out of published photos."""

__version__ = "0.1.0"
