"""Schema migrations: Alembic revisions over SQLite and PostgreSQL, run in one transaction.

:func:`upgrade` brings a database to :data:`HEAD`. The usual case (already there) is one
plain read and never imports Alembic. Otherwise every pending revision runs inside one write
transaction: ``BEGIN IMMEDIATE`` on SQLite, the advisory write lock on PostgreSQL, so
replicas that start together queue and the later ones find the work done. A SQLite data dir
from before Alembic (its ``schema_version`` table says 1-7) is stamped at that revision
first.
"""

from __future__ import annotations

from pathlib import Path

from flashback_tui.server.sql import Conn, table_exists, transaction

#: The newest revision this program knows (tests check it is Alembic's head).
HEAD = "0008"
#: Where Alembic finds ``env.py`` and ``versions/``.
SCRIPT_LOCATION = Path(__file__).parent / "alembic"


class SchemaTooNew(RuntimeError):
    """The database was migrated by a newer version of this program."""


def alembic_revision(conn: Conn) -> str | None:
    """The revision Alembic recorded, or None."""
    if table_exists(conn, "alembic_version"):
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        if row is not None:
            return str(row[0])
    return None


def current_revision(conn: Conn) -> str | None:
    """The revision the database is at: Alembic's, else the pre-Alembic number, else None."""
    found = alembic_revision(conn)
    if found is not None:
        return found
    if table_exists(conn, "schema_version"):
        row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
        if row is not None and row[0]:
            return f"{int(row[0]):04d}"
    return None


def upgrade(conn: Conn, target: str = "head") -> str:
    """Apply every pending revision (up to ``target``); the revision the database is at."""
    return upgrade_from(conn, target)[1]


def upgrade_from(conn: Conn, target: str = "head") -> tuple[str | None, str]:
    """Apply every pending revision; the revisions before and after (read under the lock).

    Before is None for an empty database.
    """
    if target == "head" and alembic_revision(conn) == HEAD:
        return HEAD, HEAD  # the usual case: no write lock, no Alembic
    from alembic import command
    from alembic.config import Config
    from alembic.util.exc import CommandError

    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    config.attributes["connection"] = conn.sa
    with transaction(conn):
        found = current_revision(conn)
        if found is not None and alembic_revision(conn) is None:
            command.stamp(config, found)  # a data dir from before Alembic
        try:
            command.upgrade(config, target)
        except CommandError as exc:
            raise SchemaTooNew(
                f"the database is at schema revision {found}, which this program does not "
                "know (a newer flashback-tui migrated it); upgrade flashback-tui") from exc
    return found, current_revision(conn) or ""
