"""Count the SQL statements a block of code sends to a platform's database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from flashback_tui.server.db import Database


@contextmanager
def statements_sent(db: Database) -> Iterator[list[str]]:
    """The statements sent while the block runs, in order (any dialect)."""
    sent: list[str] = []

    def note(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        sent.append(statement)

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        yield sent
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
