"""CODESAGE: an open-source engine for real-time AI interviews."""

__version__ = "0.1.0"
