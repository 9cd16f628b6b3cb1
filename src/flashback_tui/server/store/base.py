"""What every store module shares: its errors, ids and clocks, and the data version.

Store functions take a ``sql.Conn`` (SQLite or PostgreSQL, see :mod:`..db`) and return
plain records; only the routes turn them into wire models. Failures that callers turn into
HTTP statuses or CLI messages are :class:`StoreError` subclasses whose messages never contain
a secret. Where SQL is assembled (``# noqa: S608``), only fixed column names and clauses
written here are joined; every value is a bound parameter.
"""

from __future__ import annotations

import uuid
from datetime import UTC

from pydantic import TypeAdapter

from flashback_tui.api.models import (
    AiLlm,
    AiLlmStats,
)
from flashback_tui.server.clock import SYSTEM, Clock
from flashback_tui.server.sql import Conn, IntegrityError, unique_violation

#: What the first start on an empty data dir creates.
LOCAL_ADMIN_EMAIL = "admin@localhost"
DEFAULT_WORKSPACE = "Default"
DEFAULT_ORG = "Local"

#: Validates a list of ``AiLlm`` wire dicts in one pass.
AI_LLM_LIST = TypeAdapter(list[AiLlm])
_STATS_LIST = TypeAdapter(list[AiLlmStats])


class StoreError(Exception):
    """A request the data cannot satisfy; the message is safe to show."""


class NotFound(StoreError):
    """No such row (or not visible to the caller)."""


class Conflict(StoreError):
    """A unique name or email is already taken."""


class InUse(StoreError):
    """The row is referenced and cannot be removed."""


class Invalid(StoreError):
    """A value is not acceptable; the message starts with the field name."""


def new_id() -> str:
    """A fresh UUID string."""
    return str(uuid.uuid4())


_clock: Clock = SYSTEM


def use_clock(clock: Clock) -> Clock:
    """Read the time from ``clock`` from now on (an in-process server's); the previous one."""
    global _clock
    previous, _clock = _clock, clock
    return previous


def now_iso() -> str:
    """Now as ``YYYY-MM-DDTHH:MM:SS.mmmZ`` (sorts lexicographically)."""
    now = _clock.now().astimezone(UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def now_ms() -> int:
    """Now in Unix milliseconds."""
    return int(_clock.now().timestamp() * 1000)


def is_unique_violation(exc: IntegrityError) -> bool:
    """Whether a failed write broke a unique constraint (a name or email already taken)."""
    return unique_violation(exc) is not None


def data_version(conn: Conn, *, usage: bool = False) -> tuple[int, ...]:
    """Numbers that change whenever listed data changes (bumped by triggers).

    Configurations, workspaces, members and repositories share one counter; usage totals
    have their own, which only answers that show usage (``usage=True``) depend on.
    """
    if usage:
        row = conn.one_row("SELECT (SELECT value FROM change_counter WHERE id = 1),"
                           " (SELECT value FROM usage_counter WHERE id = 1)")
        assert row is not None
        return (row[0], row[1])
    row = conn.one_row("SELECT value FROM change_counter WHERE id = 1")
    assert row is not None, "the change counter's row is made by the schema"
    return (row[0],)
