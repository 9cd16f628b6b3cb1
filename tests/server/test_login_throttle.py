"""Failed sign-ins lock one (email, address) pair out for a while, then let it try again.

The throttle keeps its counts in the platform's database (each test runs on SQLite and on
PostgreSQL); a hand-moved clock stands for the time."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from flashback_tui.server import admin
from flashback_tui.server.app import create_app
from flashback_tui.server.config import ServerSettings
from flashback_tui.server.runner import LocalServer
from flashback_tui.server.state import PlatformState
from flashback_tui.server.throttle import MAX_LOCKOUT, WINDOW, LoginThrottle
from tests.support.clock import ManualClock

EMAIL = "ops@example.test"
PASSWORD = "correct horse battery staple"


class Clock:
    """A hand-moved wall clock (seconds)."""

    def __init__(self) -> None:
        self.now = 1_767_225_600.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def state(tmp_path: Path) -> Iterator[PlatformState]:
    """A platform's database for the throttle to keep its counts in."""
    with PlatformState.open(tmp_path / "data") as opened:
        yield opened


def test_a_pair_is_locked_after_too_many_failures_and_the_lockout_doubles(
        state: PlatformState) -> None:
    clock = Clock()
    throttle = LoginThrottle(state.db.conn, max_failures=3, lockout=30, clock=clock)
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


def test_other_addresses_success_and_time_each_reset_the_count(state: PlatformState) -> None:
    clock = Clock()
    throttle = LoginThrottle(state.db.conn, max_failures=2, lockout=30, clock=clock)
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


def test_the_pairs_remembered_are_bounded(state: PlatformState) -> None:
    clock = Clock()
    throttle = LoginThrottle(state.db.conn, max_failures=1, lockout=30, clock=clock,
                             max_entries=20)
    for n in range(25):
        clock.now += 0.01
        throttle.failed(throttle.key(f"u{n}@example.test", "10.0.0.1"))
    assert throttle.wait_seconds(throttle.key("u0@example.test", "10.0.0.1")) == 0  # forgotten
    assert throttle.wait_seconds(throttle.key("u4@example.test", "10.0.0.1")) == 0
    assert throttle.wait_seconds(throttle.key("u5@example.test", "10.0.0.1")) > 0
    assert throttle.wait_seconds(throttle.key("u24@example.test", "10.0.0.1")) > 0
    count = state.db.conn().execute("SELECT COUNT(*) FROM login_failures").fetchone()[0]
    assert count == 20


def test_pairs_whose_window_and_lockout_are_over_are_forgotten(state: PlatformState) -> None:
    clock = Clock()
    throttle = LoginThrottle(state.db.conn, max_failures=1, lockout=30, clock=clock)
    throttle.failed(throttle.key("old@example.test", "10.0.0.1"))
    clock.now += WINDOW + 1
    throttle.failed(throttle.key("new@example.test", "10.0.0.1"))
    rows = state.db.conn().execute("SELECT email FROM login_failures").fetchall()
    assert [row[0] for row in rows] == ["new@example.test"]


def test_two_throttles_on_one_database_share_their_counts(state: PlatformState) -> None:
    """What two replicas of one database see: failures counted by either lock both."""
    clock = Clock()
    one = LoginThrottle(state.db.conn, max_failures=3, lockout=30, clock=clock)
    with PlatformState.open(state.data_dir) as other_state:
        other = LoginThrottle(other_state.db.conn, max_failures=3, lockout=30, clock=clock)
        pair = one.key(EMAIL, "10.0.0.1")
        one.failed(pair)
        other.failed(pair)
        assert one.wait_seconds(pair) == other.wait_seconds(pair) == 0
        one.failed(pair)
        assert one.wait_seconds(pair) == other.wait_seconds(pair) == 30
        other.succeeded(pair)
        assert one.wait_seconds(pair) == 0


@pytest.fixture
def strict_server(tmp_path: Path) -> Iterator[LocalServer]:
    """A local platform that locks a pair out for 10 minutes after 2 failures (far longer
    than the test, however busy the machine)."""
    data_dir = tmp_path / "data"
    server = LocalServer(data_dir, env={"FLASHBACK_LOGIN_MAX_FAILURES": "2",
                                        "FLASHBACK_LOGIN_LOCKOUT": "600"})
    server.start()
    admin.add_user(data_dir, EMAIL, password=PASSWORD)
    try:
        yield server
    finally:
        server.stop()


def test_the_server_refuses_even_the_right_password_while_locked(
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
    assert locked.json()["message"].startswith(
        "too many failed sign-ins for this email from this address; try again in ")
    assert 0 < int(locked.headers["retry-after"]) <= 600
    assert PASSWORD not in locked.text


def test_once_the_lockout_is_over_the_right_password_gets_in(tmp_path: Path) -> None:
    """The app in-process on a hand-moved clock: the lockout ends when the clock says so."""
    data_dir = tmp_path / "data"
    clock = ManualClock()
    settings = ServerSettings(data_dir=data_dir, login_max_failures=2, login_lockout=30)
    with TestClient(create_app(settings, clock=clock)) as client:
        admin.add_user(data_dir, EMAIL, password=PASSWORD)

        def login(password: str) -> int:
            answer = client.post("/user/login", json={"email": EMAIL, "password": password})
            return answer.status_code

        assert login("wrong") == 401 and login("wrong again") == 401
        locked = client.post("/user/login", json={"email": EMAIL, "password": PASSWORD})
        assert locked.status_code == 401 and locked.headers["retry-after"] == "30"
        clock.advance(29)
        assert login(PASSWORD) == 401  # one second still to wait
        clock.advance(1)
        assert login(PASSWORD) == 200
        assert login("wrong") == 401  # the success reset the count
        assert login(PASSWORD) == 200
