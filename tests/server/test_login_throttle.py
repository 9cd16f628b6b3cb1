"""Failed sign-ins lock one (email, address) pair out for a while, then let it try again."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from flashback_tui.server import admin
from flashback_tui.server.runner import LocalServer
from flashback_tui.server.throttle import MAX_ENTRIES, MAX_LOCKOUT, WINDOW, LoginThrottle

EMAIL = "ops@example.test"
PASSWORD = "correct horse battery staple"


class Clock:
    """A hand-moved monotonic clock."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_pair_is_locked_after_too_many_failures_and_the_lockout_doubles() -> None:
    clock = Clock()
    throttle = LoginThrottle(max_failures=3, lockout=30, clock=clock)
    pair = throttle.key(" Ops@Example.TEST ", "10.0.0.1")
    assert pair == (EMAIL, "10.0.0.1")

    throttle.failed(pair)
    throttle.failed(pair)
    assert throttle.wait_seconds(pair) == 0
    throttle.failed(pair)
    assert throttle.wait_seconds(pair) == 30
    clock.now += 30
    assert throttle.wait_seconds(pair) == 0
    throttle.failed(pair)  # a fourth failure: twice as long
    assert throttle.wait_seconds(pair) == 60
    for _ in range(20):
        throttle.failed(pair)
    assert throttle.wait_seconds(pair) == MAX_LOCKOUT


def test_other_addresses_success_and_time_each_reset_the_count() -> None:
    clock = Clock()
    throttle = LoginThrottle(max_failures=2, lockout=30, clock=clock)
    here, there = throttle.key(EMAIL, "10.0.0.1"), throttle.key(EMAIL, "10.0.0.2")
    throttle.failed(here)
    throttle.failed(here)
    assert throttle.wait_seconds(here) == 30
    assert throttle.wait_seconds(there) == 0  # a stranger elsewhere cannot lock the user out

    clock.now += 30
    throttle.succeeded(here)
    throttle.failed(here)
    assert throttle.wait_seconds(here) == 0  # the success cleared the earlier failures

    clock.now += WINDOW + 1
    throttle.failed(here)
    assert throttle.wait_seconds(here) == 0  # the old failure fell out of the window


def test_memory_is_bounded() -> None:
    clock = Clock()
    throttle = LoginThrottle(max_failures=1, lockout=30, clock=clock)
    for n in range(MAX_ENTRIES + 5):
        clock.now += 0.001
        throttle.failed(throttle.key(f"u{n}@example.test", "10.0.0.1"))
    assert throttle.wait_seconds(throttle.key("u0@example.test", "10.0.0.1")) == 0  # forgotten
    assert throttle.wait_seconds(throttle.key(f"u{MAX_ENTRIES + 4}@example.test", "10.0.0.1"))


@pytest.fixture
def strict_server(tmp_path: Path) -> Iterator[LocalServer]:
    """A local platform that locks a pair out for 1 s after 2 failures."""
    data_dir = tmp_path / "data"
    server = LocalServer(data_dir, env={"FLASHBACK_LOGIN_MAX_FAILURES": "2",
                                        "FLASHBACK_LOGIN_LOCKOUT": "1"})
    server.start()
    admin.add_user(data_dir, EMAIL, password=PASSWORD)
    try:
        yield server
    finally:
        server.stop()


def test_the_server_refuses_even_the_right_password_while_locked_then_lets_it_in(
    strict_server: LocalServer,
) -> None:
    def login(password: str) -> httpx.Response:
        return httpx.post(strict_server.url + "/user/login",
                          json={"email": EMAIL, "password": password}, timeout=10)

    assert login("wrong").status_code == 401
    second = login("wrong again")
    assert second.status_code == 401
    assert second.json() == {"success": False, "error_code": "INVALID_CREDENTIALS",
                             "message": "invalid email or password"}

    locked = login(PASSWORD)
    assert locked.status_code == 401
    assert locked.json()["error_code"] == "TOO_MANY_ATTEMPTS"
    assert locked.json()["message"] == ("too many failed sign-ins for this email from this "
                                        "address; try again in 1 s")
    assert locked.headers["retry-after"] == "1"
    assert PASSWORD not in locked.text

    time.sleep(1.1)
    assert login(PASSWORD).status_code == 200
    assert login("wrong").status_code == 401  # the success reset the count
    assert login(PASSWORD).status_code == 200
