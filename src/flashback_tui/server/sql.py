"""One connection to the platform's database, SQLite or PostgreSQL, through SQLAlchemy Core.

The store writes its SQL once, in the dialect both engines share, with ``?`` placeholders,
and runs it through :class:`Conn`. ``Conn`` hands each statement to SQLAlchemy's
``exec_driver_sql`` (pooling, dialects, error translation and transactions are SQLAlchemy's),
after turning ``?`` into the driver's own placeholder. Rows come back as :class:`Record`
tuples that can also be read by column name, as ``sqlite3.Row`` can.

Only fixed SQL written in this package reaches ``execute``: values are always bound.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence, Sized
from contextlib import contextmanager
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection as SAConnection
    from sqlalchemy.engine import CursorResult

__all__ = [
    "POSTGRESQL", "SQLITE", "Conn", "Cursor", "DBAPIError", "IntegrityError", "OperationalError",
    "Record", "columns", "fold_wal", "marks", "table_exists", "table_names", "transaction",
    "unique_violation",
]

SQLITE = "sqlite"
POSTGRESQL = "postgresql"

#: The SQLSTATE of a unique violation in PostgreSQL.
_UNIQUE_VIOLATION = "23505"


class Record(tuple):
    """A row: a tuple that can also be indexed by column name (``row["name"]``)."""

    __slots__ = ()
    _index: dict[str, int] = {}

    def __getitem__(self, key: Any) -> Any:  # type: ignore[override]
        if isinstance(key, str):
            return tuple.__getitem__(self, self._index[key])
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        """The column names, in order (so ``dict(row)`` works)."""
        return list(self._index)


@lru_cache(maxsize=512)
def _record_class(columns: tuple[str, ...]) -> type[Record]:
    """A :class:`Record` subclass that knows these column names."""
    return type("Record", (Record,), {"__slots__": (), "_index": {
        name: i for i, name in reversed(list(enumerate(columns)))}})


class Cursor:
    """The answer to one statement: its rows (as :class:`Record`) and its row count."""

    __slots__ = ("_make", "_result", "rowcount")

    def __init__(self, result: CursorResult[Any] | None) -> None:
        self._result = result
        self.rowcount = -1 if result is None else result.rowcount
        if result is not None and result.returns_rows:
            self._make = _record_class(tuple(result.keys()))
        else:
            self._make = None

    def fetchone(self) -> Record | None:
        """The next row, or None."""
        if self._make is None:
            return None
        row = self._result.fetchone()  # type: ignore[union-attr]
        return None if row is None else self._make(row)

    def fetchall(self) -> list[Record]:
        """Every remaining row."""
        if self._make is None:
            return []
        make = self._make
        return [make(row) for row in self._result.fetchall()]  # type: ignore[union-attr]

    def __iter__(self) -> Iterator[Record]:
        return iter(self.fetchall())


def _is_retryable(sql: str) -> bool:
    """A plain read or the start of a transaction: safe to send again."""
    return sql.split(None, 1)[0].upper() in {"SELECT", "BEGIN"}


@lru_cache(maxsize=2048)
def _pyformat(sql: str) -> str:
    """``?`` placeholders as psycopg's ``%s`` (a literal ``%`` doubled)."""
    return sql.replace("%", "%%").replace("?", "%s")


def marks(values: Sized) -> str:
    """The placeholders of ``IN (...)`` for ``values``; ``NULL`` (matches nothing) for none,
    as PostgreSQL refuses an empty ``IN ()``."""
    return ", ".join("?" * len(values)) or "NULL"


class Conn:
    """One thread's connection to the database, in autocommit mode (explicit transactions).

    ``dialect`` is ``"sqlite"`` or ``"postgresql"``; ``raw`` is the driver's own connection
    (the ``sqlite3`` connection that tracks secure deletion, or psycopg's).
    """

    def __init__(self, connection: SAConnection) -> None:
        self.sa = connection
        self.dialect = connection.dialect.name
        #: True inside :func:`transaction`.
        self.in_transaction = False
        self._native = _pyformat if self.dialect == POSTGRESQL else str

    @property
    def raw(self) -> Any:
        """The driver's connection under SQLAlchemy's."""
        return self.sa.connection.driver_connection

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> Cursor:
        """Run one statement with ``?`` placeholders bound to ``params``."""
        return self._run(sql, tuple(params) if params else None)

    def one_row(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        """The first row of a small query, as a plain tuple (None: no row).

        On SQLite it goes straight to the driver: the gateway reads the data version on every
        call, and SQLAlchemy's own work would be most of that read's cost. A driver error is
        sent again the usual way, so it is raised as SQLAlchemy's errors are.
        """
        if self.dialect == SQLITE:
            try:
                row = self.raw.execute(sql, tuple(params)).fetchone()
            except sqlite3.Error:
                pass
            else:
                return tuple(row) if row is not None else None
        row = self._send(sql, tuple(params) or None).fetchone()
        return tuple(row) if row is not None else None

    def tuples(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        """Every row of a query as a plain tuple (cheaper than :class:`Record` for big reads)."""
        return [tuple(row) for row in self._send(sql, tuple(params) if params else None)]

    def batches(self, sql: str, size: int = 1000) -> Iterator[list[tuple[Any, ...]]]:
        """The rows of a query ``size`` at a time, never all in memory (a server-side cursor
        on PostgreSQL, which needs an open transaction)."""
        result = self.sa.exec_driver_sql(self._native(sql),
                                         execution_options={"stream_results": True})
        try:
            while rows := result.fetchmany(size):
                yield [tuple(row) for row in rows]
        finally:
            result.close()

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> Cursor:
        """Run one statement for each row of parameters (nothing at all for no rows)."""
        batch = [tuple(row) for row in rows]
        if not batch:
            return Cursor(None)
        return self._run(sql, batch)

    def _run(self, sql: str, params: Any) -> Cursor:
        return Cursor(self._send(sql, params))

    def _send(self, sql: str, params: Any) -> CursorResult[Any]:
        """Run a statement; on a connection the database dropped (a restart, a fail-over),
        discard it, and send a read or a BEGIN outside a transaction once more on a new one
        (they change nothing, so a second try is safe; anything else fails as it did)."""
        try:
            return self._exec(sql, params)
        except DBAPIError as exc:
            if not exc.connection_invalidated:
                raise
            self.sa.rollback()  # the next statement opens a new connection
            if self.in_transaction or not _is_retryable(sql):
                raise
        return self._exec(sql, params)

    def _exec(self, sql: str, params: Any) -> CursorResult[Any]:
        if params is None:
            return self.sa.exec_driver_sql(self._native(sql))
        return self.sa.exec_driver_sql(self._native(sql), params)

    def close(self) -> None:
        """Close the connection."""
        self.sa.close()


def unique_violation(exc: IntegrityError) -> str | None:
    """The driver's message when ``exc`` is a unique violation (never values), else None."""
    orig = exc.orig
    if getattr(orig, "sqlstate", None) == _UNIQUE_VIOLATION:
        diag = getattr(orig, "diag", None)
        return f"unique constraint {getattr(diag, 'constraint_name', '') or ''}".strip()
    text = str(orig)
    return text if "UNIQUE" in text else None


#: The transaction-scoped advisory lock every PostgreSQL write transaction takes first, so
#: writers queue one after another as SQLite's ``BEGIN IMMEDIATE`` makes them (every rule the
#: store checks before it writes holds across replicas). Its value spells "FBwr".
WRITE_LOCK = 0x46427772
#: How long the checkpoint after a secure deletion may wait for readers before it leaves the
#: rest to the next commit (it never holds a request up for long).
SHRED_CHECKPOINT_TIMEOUT_MS = 250
BUSY_TIMEOUT_MS = 10_000


@contextmanager
def transaction(conn: Conn, *, immediate: bool = True, serialized: bool = True
                ) -> Iterator[Conn]:
    """BEGIN ... COMMIT, or ROLLBACK on any exception.

    A write transaction (``immediate``, the default) waits for the other writers first:
    ``BEGIN IMMEDIATE`` on SQLite, the advisory :data:`WRITE_LOCK` on PostgreSQL. A read
    transaction sees one snapshot throughout (REPEATABLE READ on PostgreSQL).

    ``serialized=False`` is for writes that are atomic row by row and check nothing before
    they write (the usage upserts): on PostgreSQL such a transaction (READ COMMITTED) skips
    the advisory lock and runs beside the other writers, its rows locked one by one as it
    writes them; on SQLite nothing changes (one writer at a time).
    """
    postgres = conn.dialect == POSTGRESQL
    if postgres:
        conn.execute("BEGIN" if immediate else "BEGIN ISOLATION LEVEL REPEATABLE READ")
    else:
        conn.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
    conn.in_transaction = True
    try:
        if postgres and immediate and serialized:
            conn.execute("SELECT pg_advisory_xact_lock(?)", (WRITE_LOCK,))
        yield conn
    except BaseException:
        conn.in_transaction = False
        _rollback(conn)
        raise
    conn.in_transaction = False
    conn.execute("COMMIT")
    raw = conn.raw
    if getattr(raw, "shred_pending", False):
        raw.shred_pending = not fold_wal(conn)  # else retried after the next commit


def _rollback(conn: Conn) -> None:
    """Roll back, forgetting any secure deletion the transaction had asked for."""
    try:
        conn.execute("ROLLBACK")
    except DBAPIError:
        if not conn.sa.invalidated:
            raise
    raw = None if conn.sa.invalidated else conn.raw
    if hasattr(raw, "shred_pending"):
        raw.shred_pending = False


def fold_wal(conn: Conn, *, timeout_ms: int = SHRED_CHECKPOINT_TIMEOUT_MS) -> bool:
    """SQLite: checkpoint and truncate the WAL; False if readers kept it from finishing."""
    conn.execute(f"PRAGMA busy_timeout = {int(timeout_ms)}")
    try:
        busy = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
    except OperationalError:
        busy = 1
    finally:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    return not busy


def columns(conn: Conn, table: str) -> list[str]:
    """The column names of one of this package's tables, in order."""
    result = conn.sa.exec_driver_sql(f"SELECT * FROM {table} WHERE 1 = 0")  # noqa: S608
    try:
        return list(result.keys())
    finally:
        result.close()


def table_names(conn: Conn) -> set[str]:
    """The names of the database's tables (PostgreSQL: those of the current schema)."""
    if conn.dialect == POSTGRESQL:
        sql = ("SELECT table_name FROM information_schema.tables"
               " WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'")
    else:
        sql = "SELECT name FROM sqlite_master WHERE type = 'table'"
    return {str(row[0]) for row in conn.tuples(sql)}


def table_exists(conn: Conn, name: str) -> bool:
    """Whether the database has a table of this name (without failing a transaction)."""
    if conn.dialect == POSTGRESQL:
        return conn.execute("SELECT to_regclass(?) IS NOT NULL", (name,)).fetchone()[0]
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                        (name,)).fetchone() is not None
