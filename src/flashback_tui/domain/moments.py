"""Moments typed by a person: ``2026-01-31`` or an ISO 8601 date-time, read as UTC when naive.

Used by the CLI's ``--from``/``--to`` and the TUI's violation filters, so both read a time
the same way.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def is_date_only(text: str) -> bool:
    """Whether ``text`` is a bare date (``2026-01-31``), without a time."""
    return bool(_DATE_ONLY.match(text.strip()))


def parse_moment(text: str, *, end_of_day: bool = False) -> datetime:
    """The moment ``text`` names, aware, in UTC; ValueError when it names none.

    A bare date is its first millisecond, or with ``end_of_day`` its last one (so a range
    "to 2026-01-31" includes that day). A date-time without ``Z`` or an offset is UTC.
    """
    text = text.strip()
    moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if end_of_day and is_date_only(text):
        moment += timedelta(days=1, milliseconds=-1)
    return moment.astimezone(UTC)
