"""Rotating the master key while replicas serve, the way an operator does it with env keys.

Three replicas start with ``FLASHBACK_MASTER_KEY=OLD`` and a configuration sealed under it.
The operator restarts them one by one with ``NEW,OLD``, runs ``flashback-tui admin
rotate-key`` (everything re-sealed under NEW), and finally needs OLD nowhere: a replica
started with ``NEW`` alone opens every secret. Gateway calls go through every running
replica before, during and after the re-seal, and none fails.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from flashback_tui.server import maintenance
from flashback_tui.server.crypto import key_id, new_master_key, parse_master_key
from tests.gateway.helpers import Linked
from tests.replicas.helpers import Replicas, chat, link_key, running
from tests.support.fake_provider import FakeProvider

COUNT = 3
OLD, NEW = new_master_key(), new_master_key()
#: Calls through every replica that must succeed while the re-seal runs, at least.
CALLS_DURING = 5


@pytest.fixture(scope="module")
def replicas(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Replicas]:
    yield from running(tmp_path_factory.mktemp("rotation"), COUNT,
                       env={"FLASHBACK_MASTER_KEY": OLD})


def every_replica_answers(replicas: Replicas, linked: Linked) -> list[int]:
    with httpx.Client(timeout=30) as http:
        return [chat(http, server.url, linked.secret, "still there?").status
                for server in replicas.servers if server.running]


class Caller:
    """Calls through every replica in turn, from a thread, until stopped: each call's
    replica, status and end (monotonic seconds)."""

    def __init__(self, replicas: Replicas, linked: Linked) -> None:
        self.statuses: list[tuple[int, int, float]] = []
        self._stop = threading.Event()
        self._urls = [server.url for server in replicas.servers]
        self._secret = linked.secret
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        with httpx.Client(timeout=30) as http:
            while not self._stop.is_set():
                for n, url in enumerate(self._urls):
                    status = chat(http, url, self._secret, "rotating?").status
                    self.statuses.append((n, status, time.monotonic()))

    def stop(self) -> list[tuple[int, int, float]]:
        self._stop.set()
        self._thread.join(60)
        return self.statuses


def rotate_key(replicas: Replicas) -> subprocess.CompletedProcess[str]:
    """``flashback-tui admin rotate-key`` as the operator runs it, with NEW,OLD."""
    env = {**replicas.env, "FLASHBACK_MASTER_KEY": f"{NEW},{OLD}"}
    return subprocess.run(
        [sys.executable, "-m", "flashback_tui", "admin", "rotate-key", "--data-dir",
         str(replicas.base / "operator")], env={**os.environ, **env}, capture_output=True,
        text=True, timeout=120, check=False)


def test_rotate_key_while_the_replicas_serve(replicas: Replicas, provider: FakeProvider
                                             ) -> None:
    linked = link_key(replicas, 0, provider.endpoint("ok"), "rotated")
    assert every_replica_answers(replicas, linked) == [200] * COUNT

    for n in range(COUNT):  # the rolling restart: each learns NEW, the others serve on
        replicas.restart(n, {"FLASHBACK_MASTER_KEY": f"{NEW},{OLD}"})
        assert every_replica_answers(replicas, linked) == [200] * COUNT

    caller = Caller(replicas, linked)
    try:
        began = time.monotonic()
        done = rotate_key(replicas)
        ended = time.monotonic()
    finally:
        statuses = caller.stop()
    assert done.returncode == 0, done.stderr
    assert f"under key {key_id(parse_master_key(NEW))}" in done.stderr
    assert key_id(parse_master_key(OLD)) in done.stderr  # "drop it from the variable"
    assert {status for _, status, _ in statuses} == {200}
    during = [n for n, _, at in statuses if began <= at <= ended]
    assert all(during.count(n) >= CALLS_DURING for n in range(COUNT)), during

    seals = {s.info.kid: s.seals for s in maintenance.key_status(
        replicas.base / "operator", env={**replicas.env, "FLASHBACK_MASTER_KEY": f"{NEW},{OLD}"})}
    assert seals[key_id(parse_master_key(OLD))] == 0
    assert seals[key_id(parse_master_key(NEW))] >= 1

    assert every_replica_answers(replicas, linked) == [200] * COUNT  # after the re-seal
    replicas.add({"FLASHBACK_MASTER_KEY": NEW})  # OLD is needed nowhere any more
    assert every_replica_answers(replicas, linked) == [200] * (COUNT + 1)
