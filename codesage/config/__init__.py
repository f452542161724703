"""Typed settings read from `CODESAGE_*` environment variables, and logging setup."""

from codesage.config.logging import configure_logging
from codesage.config.settings import IceServer, Settings, SettingsError, load_settings

__all__ = ["IceServer", "Settings", "SettingsError", "configure_logging", "load_settings"]
