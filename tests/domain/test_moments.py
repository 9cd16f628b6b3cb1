"""Moments typed by a person: a bare date, or an ISO date-time read as UTC when naive."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from flashback_tui.domain.moments import is_date_only, parse_moment


@pytest.mark.parametrize(("text", "moment"), [
    ("2026-01-31", datetime(2026, 1, 31, tzinfo=UTC)),
    (" 2026-01-31T08:00:00Z ", datetime(2026, 1, 31, 8, tzinfo=UTC)),
    ("2026-01-31T08:00:00", datetime(2026, 1, 31, 8, tzinfo=UTC)),  # naive: UTC
    ("2026-01-31T08:00:00+02:00", datetime(2026, 1, 31, 6, tzinfo=UTC)),
    ("2026-01-31T08:00:00.250z", datetime(2026, 1, 31, 8, 0, 0, 250000, tzinfo=UTC)),
])
def test_a_moment_is_read_in_utc(text: str, moment: datetime) -> None:
    assert parse_moment(text) == moment
    assert parse_moment(text).tzinfo is UTC


def test_a_bare_date_ends_at_its_last_millisecond() -> None:
    assert parse_moment("2026-01-31", end_of_day=True) == datetime(
        2026, 1, 31, 23, 59, 59, 999000, tzinfo=UTC)
    assert parse_moment("2026-01-31T08:00:00Z", end_of_day=True) == datetime(
        2026, 1, 31, 8, tzinfo=UTC)  # a time is that time
    assert is_date_only("2026-01-31") and not is_date_only("2026-01-31T00:00")


@pytest.mark.parametrize("text", ["", "yesterday", "2026-13-01", "2026-02-30", "31/01/2026",
                                  "2026-01-31T25:00"])
def test_what_is_no_moment_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_moment(text)


def test_the_cli_reads_a_bare_date_as_the_start_or_the_end_of_its_day() -> None:
    from flashback_tui.commands.params import TIME, TIME_UNTIL

    assert TIME.convert("2026-01-31", None, None) == "2026-01-31T00:00:00.000Z"
    assert TIME_UNTIL.convert("2026-01-31", None, None) == "2026-01-31T23:59:59.999Z"
    assert TIME_UNTIL.convert("2026-01-31T08:00:00Z", None, None) == "2026-01-31T08:00:00.000Z"
