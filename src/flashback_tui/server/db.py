"""The local platform's SQLite database: one file, WAL, foreign keys, numbered migrations.

Every process that touches the data dir (the server, the ``admin`` commands, tests) opens
its own connections through :class:`Database`. WAL mode plus a busy timeout lets the admin
commands write while the server runs. Connections are per thread, so FastAPI's threadpool
workers never share one.

Deleted means gone: every connection runs with ``secure_delete`` (freed space is zeroed),
and a transaction that removed or replaced a sealed secret or a key digest (triggers call
``flashback_shred()``, see migration 6) ends with a checkpoint that folds the write-ahead
log into the database and truncates it, so no old copy stays in ``flashback.db-wal``.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flashback_tui.server.migrations import MIGRATIONS

DB_FILENAME = "flashback.db"
BUSY_TIMEOUT_MS = 10_000

SCHEMA_VERSION = len(MIGRATIONS)


def db_path(data_dir: Path) -> Path:
    """The database file inside a data dir."""
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


#: How long the checkpoint after a secure deletion may wait for readers before it leaves the
#: rest to the next commit (it never holds a request up for long).
SHRED_CHECKPOINT_TIMEOUT_MS = 250


class Connection(sqlite3.Connection):
    """A connection that remembers when a transaction removed secret material."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        #: Set by the ``flashback_shred()`` SQL function, which triggers call.
        self.shred_pending = False
        #: False when secure deletion is off (``FLASHBACK_SECURE_DELETE=0``).
        self.secure_delete = True
        self.create_function("flashback_shred", 0, self._shredded, deterministic=False)

    def _shredded(self) -> None:
        self.shred_pending = self.secure_delete


def fold_wal(conn: sqlite3.Connection, *, timeout_ms: int = SHRED_CHECKPOINT_TIMEOUT_MS
             ) -> bool:
    """Checkpoint and truncate the WAL; False if readers kept it from finishing in time."""
    conn.execute(f"PRAGMA busy_timeout = {int(timeout_ms)}")
    try:
        busy = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
    except sqlite3.OperationalError:
        busy = 1
    finally:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    return not busy


def connect(path: Path, *, secure_delete: bool = True) -> Connection:
    """A connection in autocommit mode (explicit transactions), WAL, foreign keys on."""
    conn = sqlite3.connect(
        path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False,
        factory=Connection,
    )
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")  # WAL: durable across crashes of the app
    conn.execute("PRAGMA cache_size = -1024")  # 1 MB per connection (one per thread)
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute(f"PRAGMA secure_delete = {'ON' if secure_delete else 'OFF'}")
    conn.secure_delete = secure_delete
    return conn


@contextmanager
def transaction(
    conn: sqlite3.Connection, *, immediate: bool = True
) -> Iterator[sqlite3.Connection]:
    """BEGIN (IMMEDIATE by default, so writers queue on the busy timeout) ... COMMIT/ROLLBACK."""
    conn.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        if isinstance(conn, Connection):
            conn.shred_pending = False
        raise
    conn.execute("COMMIT")
    if isinstance(conn, Connection) and conn.shred_pending:
        conn.shred_pending = not fold_wal(conn)  # else retried after the next commit


def schema_version(conn: sqlite3.Connection) -> int:
    """The applied schema version (0 for an empty database)."""
    conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
    row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
    return int(row[0] or 0)


def _applied_version(conn: sqlite3.Connection) -> int | None:
    """The schema version by a plain read, or None before the version table exists."""
    try:
        row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
    except sqlite3.OperationalError:
        return None
    return int(row[0] or 0)


def migrate(conn: sqlite3.Connection, migrations: list[str] | None = None) -> int:
    """Apply every pending migration, each in its own transaction; return the new version."""
    migrations = MIGRATIONS if migrations is None else migrations
    if _applied_version(conn) == len(migrations):
        return len(migrations)  # the usual case: no write lock taken at all
    with transaction(conn):
        current = schema_version(conn)
    if current > len(migrations):
        raise RuntimeError(
            f"the database has schema version {current}, newer than this program "
            f"({len(migrations)}); upgrade flashback-tui"
        )
    for number in range(current + 1, len(migrations) + 1):
        with transaction(conn):
            if schema_version(conn) >= number:  # another process got there first
                continue
            for statement in _statements(migrations[number - 1]):
                conn.execute(statement)
            conn.execute("INSERT INTO schema_version (version) VALUES (?)", (number,))
    return len(migrations)


def _statements(script: str) -> Iterator[str]:
    """Split a migration script into statements (executescript would commit implicitly)."""
    buffer = ""
    for piece in script.split(";"):
        buffer += piece + ";"
        if sqlite3.complete_statement(buffer):
            if buffer.strip(" \n\t;"):
                yield buffer.strip()
            buffer = ""
    if buffer.strip(" \n\t;"):
        yield buffer.strip()


class Database:
    """The database of one data dir: one connection per thread, closed together."""

    def __init__(self, data_dir: Path, *, secure_delete: bool = True) -> None:
        self.path = db_path(data_dir)
        self.secure_delete = secure_delete
        self._local = threading.local()
        self._lock = threading.Lock()
        self._all: list[sqlite3.Connection] = []

    def conn(self) -> sqlite3.Connection:
        """This thread's connection, opened on first use."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(self.path, secure_delete=self.secure_delete)
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    def migrate(self) -> int:
        """Bring the schema up to date."""
        return migrate(self.conn())

    def checkpoint(self) -> None:
        """Fold the WAL into the main file (used by tests that inspect the bytes on disk)."""
        self.conn().execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self) -> None:
        """Close every connection opened through this object."""
        with self._lock:
            conns, self._all = self._all, []
        for conn in conns:
            conn.close()
        self._local = threading.local()
