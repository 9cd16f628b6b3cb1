"""The platform's database: SQLite in the data dir by default, or a PostgreSQL server.

``FLASHBACK_DATABASE_URL`` (or ``serve --database-url``) names a PostgreSQL database
(``postgresql://user:password@host/dbname``); without it the data dir's ``flashback.db``
is used. Both are reached through SQLAlchemy engines, and every thread gets its own
connection (:meth:`Database.conn`), so FastAPI's threadpool workers never share one.

SQLite runs in WAL mode with foreign keys on and a busy timeout, so the ``admin`` commands
can write while the server runs. Deleted means gone there: every connection runs with
``secure_delete`` (freed space is zeroed), and a transaction that removed or replaced a
sealed secret or a key digest (triggers call ``flashback_shred()``) ends by folding the
write-ahead log into the database and truncating it (see :func:`sql.transaction`).
"""

from __future__ import annotations

import sqlite3
import threading
import weakref
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from flashback_tui.server.data_dir import DB_FILENAME, db_path, ensure_data_dir
from flashback_tui.server.migrations import upgrade
from flashback_tui.server.sql import BUSY_TIMEOUT_MS, POSTGRESQL, SQLITE, Conn

if TYPE_CHECKING:
    from sqlalchemy.engine import URL, Engine

__all__ = ["DATABASE_URL_ENV", "DB_FILENAME", "Database", "DatabaseUrlError", "connect_sqlite",
           "db_path", "ensure_data_dir", "parse_database_url", "redacted"]

#: Names the PostgreSQL database to use instead of the data dir's SQLite file.
DATABASE_URL_ENV = "FLASHBACK_DATABASE_URL"


class DatabaseUrlError(ValueError):
    """A database URL this program cannot use; the message never shows a password."""


#: Plain words for what a server may say to a connection it had accepted (SQLSTATEs; at
#: connection time libpq gives only its own words, see :func:`_reason`).
_ENDINGS = {
    "57P01": "the database server ended the connection (it is shutting down, or was told to)",
    "57P02": "the database server ended the connection (it crashed)",
    "57P03": "the database server is starting up or shutting down",
    "53300": "the database server has no free connection slot (see its max_connections)",
}


def database_failure(exc: BaseException, url: URL | None = None, *,
                     detail: bool = True) -> str:
    """Why the database did not answer, in plain words: never a password, a value or SQL.

    ``exc`` is what a connection or a statement raised (SQLAlchemy's error). With ``url``
    the sentence names the database (password hidden); ``detail=False`` leaves out the
    driver's own words, which may name a host (``/healthz`` answers anyone).
    """
    orig = getattr(exc, "orig", None) or exc
    reason = _ENDINGS.get(getattr(orig, "sqlstate", None) or "")
    if reason is None:
        reason = _reason(exc, orig, detail=detail)
    if url is not None and url.password:
        reason = reason.replace(str(url.password), "***")
    return reason if url is None else f"cannot use the database {redacted(url)}: {reason}"


def _reason(exc: BaseException, orig: BaseException, *, detail: bool) -> str:
    """A database that cannot be used (with the useful end of the driver's message), or a
    statement it refused (by kind only: PostgreSQL's message may quote values)."""
    from sqlalchemy.exc import InterfaceError, OperationalError

    unusable = isinstance(exc, OperationalError | InterfaceError) or (
        isinstance(orig, sqlite3.DatabaseError) and not isinstance(orig, sqlite3.IntegrityError))
    if not unusable:
        return f"the database refused a statement ({type(orig).__name__})"
    if isinstance(orig, sqlite3.Error):  # "file is not a database", "unable to open ..."
        text, what = str(orig), "SQLite cannot use the database file"
    else:
        first = str(orig).strip().splitlines()[0] if str(orig).strip() else ""
        text = first.rsplit("failed: ", 1)[-1].strip()
        what = "the database server cannot be reached"
        if text.startswith("FATAL:"):  # it answered, and said no
            text, what = text.removeprefix("FATAL:").strip(), "the database server refused"
    return f"{what} ({text[:200]})" if detail and text else what


def parse_database_url(text: str) -> URL:
    """A ``postgresql://`` or ``sqlite:///path`` URL, with psycopg as PostgreSQL's driver."""
    try:
        url = make_url(text.strip())
    except Exception:
        raise DatabaseUrlError("the database URL is not a URL; use postgresql://user:"
                               "password@host:5432/dbname or sqlite:///path/to/file") from None
    backend = url.get_backend_name()
    if backend in {"postgresql", "postgres"}:
        return url.set(drivername="postgresql+psycopg")
    if backend == SQLITE:
        if not url.database or url.database == ":memory:":
            raise DatabaseUrlError("a sqlite:/// URL needs a file path")
        return url.set(drivername="sqlite")
    raise DatabaseUrlError(f"database URLs start with postgresql:// or sqlite:///, not "
                           f"{backend}://")


def redacted(url: URL) -> str:
    """The URL as it may be shown or logged: no password, no driver name."""
    return url.set(drivername=url.get_backend_name()).render_as_string(hide_password=True)


class Connection(sqlite3.Connection):
    """A SQLite connection that remembers when a transaction removed secret material."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        #: Set by the ``flashback_shred()`` SQL function, which triggers call.
        self.shred_pending = False
        #: False when secure deletion is off (``FLASHBACK_SECURE_DELETE=0``).
        self.secure_delete = True
        self.create_function("flashback_shred", 0, self._shredded, deterministic=False)

    def _shredded(self) -> None:
        self.shred_pending = self.secure_delete


def connect_sqlite(path: Path, *, secure_delete: bool = True) -> Connection:
    """A SQLite connection in autocommit mode (explicit transactions), WAL, foreign keys."""
    conn = sqlite3.connect(
        path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False,
        factory=Connection,
    )
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")  # WAL: durable across crashes of the app
    conn.execute("PRAGMA cache_size = -1024")  # 1 MB per connection (one per thread)
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute(f"PRAGMA secure_delete = {'ON' if secure_delete else 'OFF'}")
    conn.secure_delete = secure_delete
    return conn


def _sqlite_engine(path: Path, *, secure_delete: bool) -> Engine:
    return create_engine(
        "sqlite://", creator=lambda: connect_sqlite(path, secure_delete=secure_delete),
        poolclass=NullPool, isolation_level="AUTOCOMMIT", hide_parameters=True)


def _postgres_engine(url: URL) -> Engine:
    engine = create_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT",
                           hide_parameters=True, connect_args={"connect_timeout": 10})
    event.listen(engine, "connect", _plain_numbers)
    return engine


def _plain_numbers(dbapi_connection: object, _record: object) -> None:
    """Sums of integers come back as ``int`` (PostgreSQL's SUM of BIGINT is NUMERIC)."""
    from flashback_tui.server.pg_types import register_numbers

    register_numbers(dbapi_connection)


class _ThreadEnd:
    """Lives in one thread's locals: collected when the thread ends, closing its connection."""

    __slots__ = ("__weakref__",)


class Database:
    """The database of one platform: one connection per thread, closed together.

    ``url`` names a PostgreSQL (or another SQLite) database; without it, the data dir's
    ``flashback.db``. ``path`` is the SQLite file (None on PostgreSQL).
    """

    def __init__(self, data_dir: Path, *, url: str | None = None,
                 secure_delete: bool = True) -> None:
        self.secure_delete = secure_delete
        parsed = parse_database_url(url) if url else None
        if parsed is not None and parsed.get_backend_name() == POSTGRESQL:
            self.path: Path | None = None
            self.url = parsed
            self.engine = _postgres_engine(parsed)
        else:
            self.path = Path(parsed.database) if parsed is not None else db_path(data_dir)
            self.url = make_url(f"sqlite:///{self.path}")
            self.engine = _sqlite_engine(self.path, secure_delete=secure_delete)
        self.dialect = self.engine.dialect.name
        self._local = threading.local()
        self._lock = threading.Lock()
        self._all: list[Conn] = []

    @property
    def display_url(self) -> str:
        """Where the data lives, as it may be shown (no password)."""
        return redacted(self.url)

    def conn(self) -> Conn:
        """This thread's connection, opened on first use and closed when the thread ends.

        (Request threads come and go: a pool retires idle ones, so connections must not
        outlive the thread that opened them.)
        """
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = Conn(self.engine.connect())
            self._local.conn = conn
            self._local.end = _ThreadEnd()
            weakref.finalize(self._local.end, self._forget, conn)
            with self._lock:
                self._all.append(conn)
        return conn

    def _forget(self, conn: Conn) -> None:
        """Close the connection of a thread that ended."""
        with self._lock:
            if conn in self._all:
                self._all.remove(conn)
        conn.close()

    @property
    def open_connections(self) -> int:
        """How many connections are open through this object (one per live thread)."""
        with self._lock:
            return len(self._all)

    def migrate(self) -> str:
        """Bring the schema up to date; the revision it is at."""
        return upgrade(self.conn())

    def checkpoint(self) -> None:
        """SQLite: fold the WAL into the main file (tests inspect the bytes on disk)."""
        if self.dialect == SQLITE:
            self.conn().execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self) -> None:
        """Close every connection opened through this object."""
        with self._lock:
            conns, self._all = self._all, []
        for conn in conns:
            conn.close()
        self._local = threading.local()
        self.engine.dispose()
