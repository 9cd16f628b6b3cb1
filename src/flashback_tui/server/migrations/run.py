"""What the revisions share: run a script of SQL statements for the connection's dialect."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

from alembic import op

from flashback_tui.server.migrations.postgres_schema import POSTGRES_SCHEMA
from flashback_tui.server.migrations.sqlite_scripts import SQLITE_SCRIPTS


def dialect() -> str:
    """``sqlite`` or ``postgresql``."""
    return op.get_bind().dialect.name


def legacy_revision(number: int) -> None:
    """Revisions 1-7: SQLite's script ``number``; on PostgreSQL, the whole schema at 1."""
    if dialect() == "postgresql":
        if number == 1:
            op.get_bind().exec_driver_sql(POSTGRES_SCHEMA)
        return
    for statement in sqlite_statements(SQLITE_SCRIPTS[number - 1]):
        op.get_bind().exec_driver_sql(statement)


def sqlite_statements(script: str) -> Iterator[str]:
    """Split a SQLite script into statements (executescript would commit implicitly)."""
    buffer = ""
    for piece in script.split(";"):
        buffer += piece + ";"
        if sqlite3.complete_statement(buffer):
            if buffer.strip(" \n\t;"):
                yield buffer.strip()
            buffer = ""
    if buffer.strip(" \n\t;"):
        yield buffer.strip()
