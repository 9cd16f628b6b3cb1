"""Fixtures of the server tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from flashback_tui.server.state import PlatformState

# Every test here runs on SQLite and on PostgreSQL (see tests.support.backends).
from tests.support.backends import database_for_the_test, pytest_generate_tests  # noqa: F401

#: Seconds a probe that should get an answer may take: sized for a busy machine (a probe
#: that gets its answer ends at once, so a generous bound costs nothing).
BUSY_MACHINE_PROBE_TIMEOUT = 10.0


@pytest.fixture
def probe_timeout() -> float:
    """The timeout of a probe expected to reach its provider's answer."""
    return BUSY_MACHINE_PROBE_TIMEOUT


@pytest.fixture
def state(tmp_path: Path) -> Iterator[PlatformState]:
    """A platform state of the test's own (a new data dir, and a fresh database)."""
    with PlatformState.open(tmp_path / "data") as opened:
        yield opened
