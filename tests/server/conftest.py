"""Fixtures of the server tests."""

from __future__ import annotations

import pytest

#: Seconds a probe that should get an answer may take: sized for a busy machine (a probe
#: that gets its answer ends at once, so a generous bound costs nothing).
BUSY_MACHINE_PROBE_TIMEOUT = 10.0


@pytest.fixture
def probe_timeout() -> float:
    """The timeout of a probe expected to reach its provider's answer."""
    return BUSY_MACHINE_PROBE_TIMEOUT
