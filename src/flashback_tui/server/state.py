"""The platform state of one data dir: its database and its keyring, opened together."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from flashback_tui.server.crypto import Keyring
from flashback_tui.server.db import Database, ensure_data_dir
from flashback_tui.server.store import users as user_store

#: ``FLASHBACK_SECURE_DELETE=0`` turns secure deletion off (it is on unless said otherwise).
SECURE_DELETE_ENV = "FLASHBACK_SECURE_DELETE"


def _secure_delete(environ: Mapping[str, str]) -> bool:
    return environ.get(SECURE_DELETE_ENV, "1").strip().lower() not in {"0", "false", "no", "off"}


@dataclass
class PlatformState:
    """An opened data dir: migrated database (bootstrapped) plus the master keyring."""

    data_dir: Path
    db: Database
    keyring: Keyring

    @classmethod
    def open(cls, data_dir: Path, *, env: dict[str, str] | None = None) -> PlatformState:
        """Create the data dir (0700) if needed, migrate, bootstrap, load or create the key."""
        data_dir = ensure_data_dir(Path(data_dir))
        environ = os.environ if env is None else env
        db = Database(data_dir, secure_delete=_secure_delete(environ))
        # SQLite gives the -wal and -shm files the mode of the main file: make that 0600.
        os.close(os.open(db.path, os.O_CREAT | os.O_RDWR, 0o600))
        try:
            db.migrate()
            user_store.bootstrap(db.conn())
            keyring = Keyring(data_dir, env=env)
        except BaseException:
            db.close()
            raise
        return cls(data_dir=data_dir, db=db, keyring=keyring)

    def close(self) -> None:
        """Close every database connection."""
        self.db.close()

    def __enter__(self) -> PlatformState:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
