"""The data dir of a local platform: where it is made, and the SQLite file inside it.

Free of heavy imports: the TUI prepares the embedded platform's data dir before it starts
the child process, without loading the database toolkit.
"""

from __future__ import annotations

import os
from pathlib import Path

DB_FILENAME = "flashback.db"


def db_path(data_dir: Path) -> Path:
    """The SQLite database file inside a data dir."""
    return Path(data_dir) / DB_FILENAME


def ensure_data_dir(data_dir: Path) -> Path:
    """Create the data dir with mode 0700 if it does not exist, and return it.

    An existing directory keeps its mode (it may be one the user chose and shares); the
    files with secrets in it are 0600 either way.
    """
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(data_dir, 0o700)  # mkdir's mode is filtered by the umask
    return data_dir
