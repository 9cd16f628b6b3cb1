"""The reconnect policy: backoff from 0.5 s doubling to a 15 s cap, and the offline facts."""

from __future__ import annotations

import pytest

from flashback_tui.reconnect import ReconnectPolicy


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = 100.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_delays_double_up_to_the_cap_and_start_over_on_reset() -> None:
    policy = ReconnectPolicy(clock=Clock())
    assert [policy.next_delay() for _ in range(8)] == [0.5, 1, 2, 4, 8, 15, 15, 15]
    policy.reset()
    assert policy.next_delay() == 0.5


def test_a_failure_marks_offline_until_a_success() -> None:
    clock, wall = Clock(), Clock(1_800_000_000.0)
    policy = ReconnectPolicy(clock=clock, wall_clock=wall)
    assert not policy.offline and policy.last_good_at is None and not policy.due()
    policy.succeeded()
    assert policy.last_good_at == 1_800_000_000.0
    assert policy.failed("connection refused") == 0.5
    assert policy.offline and policy.reason == "connection refused"
    assert policy.remaining() == 0.5 and not policy.due()
    clock.now += 0.5
    assert policy.due()
    assert policy.failed("still refused") == 1.0 and policy.remaining() == 1.0
    policy.reset()  # `r`: retry at once, still offline until it works
    assert policy.offline and policy.attempts == 0 and policy.remaining() == 0
    wall.now += 60
    policy.succeeded()
    assert not policy.offline and policy.reason == "" and policy.last_good_at == wall.now
    assert policy.failed("down again") == 0.5


def test_custom_backoff_and_bad_settings() -> None:
    policy = ReconnectPolicy(first=1, factor=3, cap=10, clock=Clock())
    assert [policy.next_delay() for _ in range(4)] == [1, 3, 9, 10]
    for bad in ({"first": 0}, {"factor": 0.5}, {"first": 2, "cap": 1}):
        with pytest.raises(ValueError):
            ReconnectPolicy(**bad)
