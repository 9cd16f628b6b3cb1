"""Copying a whole platform from one database to another: SQLite to PostgreSQL and back.

``admin copy`` reads the source in one consistent snapshot (so it may serve meanwhile) and
writes everything inside one write transaction of the destination: every table in
foreign-key order, with its ids, timestamps, usage, events and violations, and the order
rows were inserted in (the ``rowid`` of the tables the store orders that way). Secrets move
through :class:`copy_keys.Resealer`. Before the commit, every table's row count is checked
against the source's, the data versions are moved past both sides' and PostgreSQL's
identity sequences past the copied values.

The destination must hold no platform yet: either nothing (a database just migrated) or
only what a first start creates (the org, the workspace Default, ``admin@localhost``, its
membership and sign-in tokens, and nothing else), which the source's rows then replace.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from flashback_tui.server.copy_keys import CopyKeyError, KeySource, Resealer
from flashback_tui.server.db import (
    Database,
    DatabaseUrlError,
    database_failure,
    parse_database_url,
    redacted,
)
from flashback_tui.server.maintenance import MaintenanceError
from flashback_tui.server.migrations import HEAD, current_revision, upgrade
from flashback_tui.server.sql import (
    POSTGRESQL,
    SQLITE,
    Conn,
    DBAPIError,
    columns,
    table_names,
    transaction,
)
from flashback_tui.server.state import open_database
from flashback_tui.server.store.base import LOCAL_ADMIN_EMAIL

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

#: Every table of the platform's data, parents before children.
TABLES = (
    "orgs", "users", "workspaces", "memberships", "tokens", "ai_llms", "repos",
    "repo_ai_llms", "usage_totals", "repo_ai_api_keys", "policies", "policy_violations",
    "policy_alerts", "ai_llm_models", "usage_minute", "usage_daily", "system_events",
    "system_event_reads", "usage_conversations", "login_failures",
)
#: The tables the store reads in insertion order: their ``rowid`` is copied too.
ORDERED = frozenset({
    "orgs", "users", "workspaces", "ai_llms", "repos", "repo_ai_llms", "repo_ai_api_keys",
    "policies", "policy_violations", "policy_alerts", "usage_minute",
})
#: Single-row data versions (clients' ETags): moved past both sides' values, not copied.
COUNTERS = ("change_counter", "usage_counter")
#: Tables that hold no platform data (schema bookkeeping).
BOOKKEEPING = frozenset({"alembic_version", "schema_version", "sqlite_sequence"})
#: What a first start creates and a copy may replace (with admin@localhost's tokens).
BOOTSTRAP_ROWS = {"orgs": 1, "users": 1, "workspaces": 1, "memberships": 1}
#: Rows read and written at a time.
BATCH = 500


class CopyError(MaintenanceError):
    """A copy that cannot be done as asked; nothing was written (the message says why)."""


@dataclass(frozen=True)
class CopyReport:
    """What ``admin copy`` did."""

    source: str
    destination: str
    rows: dict[str, int] = field(default_factory=dict)
    resealed: int = 0
    kept: int = 0
    key_id: str | None = None
    key_source: str | None = None
    replaced_bootstrap: bool = False


@dataclass
class _Side:
    """One database of a copy: how it is named, its file on SQLite, its connection."""

    role: str
    text: str
    url: URL
    sqlite_file: Path | None = None
    db: Database | None = None

    @property
    def shown(self) -> str:
        """The side as it may be printed (no password)."""
        return f"sqlite:///{self.sqlite_file}" if self.sqlite_file else redacted(self.url)

    @property
    def identity(self) -> str:
        """What names the same database however its URL is spelled."""
        if self.sqlite_file is not None:
            return str(self.sqlite_file)
        return redacted(self.url.set(password=None))

    @property
    def conn(self) -> Conn:
        """This thread's connection to the side (once opened)."""
        assert self.db is not None
        return self.db.conn()


def copy_platform(source: str, destination: str, *, source_keys: KeySource | None = None,
                  destination_keys: KeySource | None = None,
                  env: Mapping[str, str] | None = None) -> CopyReport:
    """Copy everything from the database ``source`` names into ``destination`` (URLs)."""
    environ = os.environ if env is None else env
    src, dst = _side("source", source), _side("destination", destination)
    if src.identity == dst.identity:
        raise CopyError("the source and the destination are the same database")
    if src.sqlite_file is not None and not src.sqlite_file.is_file():
        raise CopyError(f"the source {src.sqlite_file} does not exist")
    reseal = Resealer(source_keys or KeySource(), destination_keys or KeySource(),
                      source_file=src.sqlite_file, destination_file=dst.sqlite_file,
                      environ=environ)
    try:
        _connect(src, environ, migrate=False)
        _check_source(src.conn)
        _connect(dst, environ, migrate=True)
        rows, replaced = _copy_all(src.conn, dst.conn, reseal)
    except CopyKeyError as exc:
        raise CopyError(f"{exc}; nothing was copied") from None
    except DBAPIError as exc:
        raise CopyError(f"nothing was copied: {database_failure(exc)}") from None
    finally:
        for side in (src, dst):
            if side.db is not None:
                side.db.close()
    sealer = reseal.sealer
    return CopyReport(source=src.shown, destination=dst.shown, rows=rows,
                      resealed=reseal.resealed, kept=reseal.kept,
                      key_id=sealer.current_kid if sealer else None,
                      key_source=sealer.key_source if sealer else None,
                      replaced_bootstrap=replaced)


def _side(role: str, text: str) -> _Side:
    """One side of a copy from its URL (a bad URL names the option it came from)."""
    try:
        url = parse_database_url(text)
    except DatabaseUrlError as exc:
        raise DatabaseUrlError(f"--{'from' if role == 'source' else 'to'}: {exc}") from None
    path = Path(url.database).expanduser().resolve() if url.get_backend_name() == SQLITE else None
    return _Side(role=role, text=text, url=url, sqlite_file=path)


def _connect(side: _Side, environ: Mapping[str, str], *, migrate: bool) -> None:
    """Open one side (bringing the destination's schema to the newest revision)."""
    url_text = f"sqlite:///{side.sqlite_file}" if side.sqlite_file is not None else side.text
    data_dir = side.sqlite_file.parent if side.sqlite_file is not None else Path.cwd()
    try:
        side.db = open_database(data_dir, env=environ, database_url=url_text)
        if migrate:
            upgrade(side.conn)
        else:
            side.conn.execute("SELECT 1")
    except DBAPIError as exc:
        raise CopyError(f"the {side.role}: {database_failure(exc, side.url)}") from None


def _check_source(conn: Conn) -> None:
    """The source must be a platform at this program's schema revision."""
    found = current_revision(conn)
    if found is None:
        raise CopyError("the source holds no flashback-tui platform (it has no schema)")
    if found > HEAD:
        raise CopyError(f"the source is at schema revision {found}, newer than this program's "
                        f"{HEAD}; copy it with the flashback-tui that migrated it")
    if found != HEAD:
        raise CopyError(f"the source is at schema revision {found}; bring it to {HEAD} first "
                        "with `flashback-tui admin migrate`")
    unknown = table_names(conn) - set(TABLES) - set(COUNTERS) - BOOKKEEPING
    if unknown:
        raise CopyError(f"the source has tables this program does not copy: "
                        f"{', '.join(sorted(unknown))}")


def _copy_all(src: Conn, dst: Conn, reseal: Resealer) -> tuple[dict[str, int], bool]:
    """Every table, in one snapshot of the source and one transaction of the destination."""
    with transaction(src, immediate=False), transaction(dst):
        replaced = _make_room(dst)
        rows = {table: _copy_table(src, dst, table, reseal) for table in TABLES}
        _check_counts(src, dst, rows)
        _move_counters(src, dst)
        if dst.dialect == POSTGRESQL:
            _advance_sequences(dst)
    return rows, replaced


def _count(conn: Conn, table: str) -> int:
    return int(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])  # noqa: S608


def _make_room(dst: Conn) -> bool:
    """Refuse a destination with data; clear one that holds only a first start's rows."""
    held = {table: n for table in TABLES if (n := _count(dst, table))}
    if not held:
        return False
    admin = dst.execute("SELECT email FROM users").fetchone()
    first_start = {table: n for table, n in held.items() if table != "tokens"}
    if first_start == BOOTSTRAP_ROWS and admin is not None and admin[0] == LOCAL_ADMIN_EMAIL:
        dst.execute("DELETE FROM orgs")  # the workspace, user, membership and tokens go too
        return True
    listed = ", ".join(f"{n} in {table}" for table, n in held.items())
    raise CopyError(f"the destination already holds data ({listed}); copy into an empty "
                    "database")


def _copy_table(src: Conn, dst: Conn, table: str, reseal: Resealer) -> int:
    """Copy one table's rows in batches; the number copied."""
    theirs = [name for name in columns(src, table) if name != "rowid"]
    names = [name for name in columns(dst, table) if name != "rowid"]
    if sorted(theirs) != sorted(names):
        raise CopyError(f"the table {table} has other columns in the source than in the "
                        "destination")
    if table in ORDERED:
        names = ["rowid", *names]
    listed = ", ".join(names)
    select = f"SELECT {listed} FROM {table}"  # noqa: S608 - names from both schemas
    if table in ORDERED:
        select += " ORDER BY rowid"
    insert = (f"INSERT INTO {table} ({listed})"  # noqa: S608
              f" VALUES ({', '.join('?' * len(names))})")
    copied = 0
    try:
        for batch in src.batches(select, BATCH):
            if table == "ai_llms":
                batch = [reseal.row(names, row) for row in batch]
            dst.executemany(insert, batch)
            copied += len(batch)
    except DBAPIError as exc:
        raise CopyError(f"cannot copy the table {table} ({database_failure(exc)}); nothing "
                        "was copied") from None
    return copied


def _check_counts(src: Conn, dst: Conn, rows: dict[str, int]) -> None:
    """Every table holds as many rows on both sides as were copied."""
    for table, copied in rows.items():
        theirs, ours = _count(src, table), _count(dst, table)
        if not theirs == ours == copied:
            raise CopyError(f"the table {table} has {theirs} rows in the source but {ours} in "
                            "the destination; nothing was copied")


def _move_counters(src: Conn, dst: Conn) -> None:
    """Data versions past both sides' own, so no client's ETag matches a stale answer."""
    for counter in COUNTERS:
        sql = f"SELECT value FROM {counter} WHERE id = 1"  # noqa: S608
        values = [row[0] for conn in (src, dst) if (row := conn.execute(sql).fetchone())]
        dst.execute(f"UPDATE {counter} SET value = ? WHERE id = 1",  # noqa: S608
                    (max(values, default=0) + 1,))


def _advance_sequences(dst: Conn) -> None:
    """PostgreSQL: every identity column's next value past the largest one copied."""
    identities = dst.tuples(
        "SELECT table_name, column_name FROM information_schema.columns"
        " WHERE table_schema = current_schema() AND is_identity = 'YES'")
    for table, column in identities:
        largest = f'COALESCE(MAX("{column}"), 0) + 1'
        dst.execute(f'SELECT setval(pg_get_serial_sequence(?, ?), {largest}, false)'  # noqa: S608
                    f' FROM "{table}"', (table, column))
