"""Where flashback-tui keeps its files: data, config and cache directories, overridable by env."""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "flashback-tui"
SETTINGS_FILE_NAME = "settings.toml"
#: The cache directory's sub-directory of last-known lists.
SNAPSHOT_DIR_NAME = "snapshots"


def data_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The local platform's data directory: explicit > $FLASHBACK_DATA_DIR > platformdirs."""
    if explicit:
        return Path(explicit).expanduser()
    env = os.environ.get("FLASHBACK_DATA_DIR")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_path

    return user_data_path(APP_NAME, appauthor=False)


def config_dir() -> Path:
    """The settings directory: $FLASHBACK_CONFIG_DIR > platformdirs user config dir."""
    env = os.environ.get("FLASHBACK_CONFIG_DIR")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_config_path

    return user_config_path(APP_NAME, appauthor=False)


def settings_file() -> Path:
    """The settings file (resolved now, so env changes are honoured)."""
    return config_dir() / SETTINGS_FILE_NAME


def cache_dir() -> Path:
    """The cache directory: $FLASHBACK_CACHE_DIR > platformdirs user cache dir."""
    env = os.environ.get("FLASHBACK_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_cache_path

    return user_cache_path(APP_NAME, appauthor=False)


def snapshot_dir() -> Path:
    """Where last-known lists are kept (resolved now, so env changes are honoured)."""
    return cache_dir() / SNAPSHOT_DIR_NAME
