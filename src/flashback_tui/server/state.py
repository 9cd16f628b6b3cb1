"""The platform state of one data dir: its database and its keyring, opened together.

The database is the data dir's SQLite file, or the PostgreSQL database that
``FLASHBACK_DATABASE_URL`` names. On PostgreSQL the master key must come from
``FLASHBACK_MASTER_KEY``: every replica reads the same secrets, and a key file made in one
replica's data dir would match no other.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from flashback_tui.server.crypto import MASTER_KEY_ENV, CryptoError, Keyring
from flashback_tui.server.data_dir import ensure_data_dir
from flashback_tui.server.db import DATABASE_URL_ENV, Database
from flashback_tui.server.sql import SQLITE
from flashback_tui.server.store import users as user_store

#: ``FLASHBACK_SECURE_DELETE=0`` turns secure deletion off (it is on unless said otherwise).
SECURE_DELETE_ENV = "FLASHBACK_SECURE_DELETE"


def _secure_delete(environ: Mapping[str, str]) -> bool:
    return environ.get(SECURE_DELETE_ENV, "1").strip().lower() not in {"0", "false", "no", "off"}


def open_database(data_dir: Path, *, env: Mapping[str, str] | None = None,
                  database_url: str | None = None) -> Database:
    """The database of a data dir, as it is (no migration): ``database_url``, else
    ``FLASHBACK_DATABASE_URL``, else the data dir's SQLite file (created with mode 0600)."""
    environ = os.environ if env is None else env
    url = database_url or environ.get(DATABASE_URL_ENV, "").strip() or None
    db = Database(data_dir, url=url, secure_delete=_secure_delete(environ))
    if db.dialect == SQLITE and db.path is not None:
        # SQLite gives the -wal and -shm files the mode of the main file: make it 0600.
        ensure_data_dir(db.path.parent)
        os.close(os.open(db.path, os.O_CREAT | os.O_RDWR, 0o600))
    return db


@dataclass
class PlatformState:
    """An opened data dir: migrated database (bootstrapped) plus the master keyring."""

    data_dir: Path
    db: Database
    keyring: Keyring

    @classmethod
    def open(cls, data_dir: Path, *, env: Mapping[str, str] | None = None,
             database_url: str | None = None, migrate: bool = True) -> PlatformState:
        """Create the data dir (0700) if needed, migrate, bootstrap, load or create the key.

        ``database_url`` (else ``FLASHBACK_DATABASE_URL``) names the database; without one,
        the data dir's SQLite file. ``migrate=False`` leaves the schema as it is.
        """
        data_dir = ensure_data_dir(Path(data_dir))
        environ = os.environ if env is None else env
        db = open_database(data_dir, env=environ, database_url=database_url)
        if db.dialect != SQLITE and not environ.get(MASTER_KEY_ENV, "").strip():
            db.close()
            raise CryptoError(f"a PostgreSQL database needs its master key in {MASTER_KEY_ENV}"
                              " (the same on every replica); `flashback-tui admin key new` makes"
                              " one")
        try:
            if migrate:
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
