"""The supervised embedded platform: a killed child is noticed at once and started again on
the same port and data dir, the same client answers, and a crash loop gives up with the log.

Everything runs against real child processes; backoff delays are shrunk, and the crash
window's clock is injected where the test needs time to pass.
"""

from __future__ import annotations

import asyncio
import os
import signal
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from flashback_tui.api.client import FlashbackClient
from flashback_tui.connect import open_session
from flashback_tui.server.runner import LocalServer
from flashback_tui.supervisor import Supervisor, SupervisorState

#: Generous: a child's start-up on a loaded 2-core machine takes about a second.
DEADLINE = 60.0


@dataclass
class Heard:
    """What the supervisor's callbacks reported, with events to wait on."""

    exits: list[int] = field(default_factory=list)
    restarts: list[tuple[str, str]] = field(default_factory=list)
    gave_up: list[Path] = field(default_factory=list)
    threads: set[str] = field(default_factory=set)
    changed: threading.Condition = field(default_factory=threading.Condition)

    def on_exit(self, code: int) -> None:
        self._note(self.exits, code)

    def on_restarted(self, url: str, token: Any) -> None:
        self._note(self.restarts, (url, token.get_secret_value()))

    def on_gave_up(self, log_path: Path) -> None:
        self._note(self.gave_up, log_path)

    def _note(self, into: list[Any], value: Any) -> None:
        with self.changed:
            into.append(value)
            self.threads.add(threading.current_thread().name)
            self.changed.notify_all()

    def wait(self, what: str, count: int = 1) -> None:
        with self.changed:
            if not self.changed.wait_for(lambda: len(getattr(self, what)) >= count, DEADLINE):
                raise AssertionError(f"no {what} (#{count}) within {DEADLINE:g} s: {self}")

    def callbacks(self) -> dict[str, Any]:
        return {"on_exit": self.on_exit, "on_restarted": self.on_restarted,
                "on_gave_up": self.on_gave_up}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LocalServer]:
    running = LocalServer(tmp_path / "data")
    running.start()
    yield running
    running.stop()


def kill(server: LocalServer) -> int:
    pid = server.pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    return pid


def break_database(data_dir: Path) -> None:
    """Make every later start of the platform fail at once: its database is not one."""
    database = data_dir / "flashback.db"
    for companion in (Path(f"{database}-wal"), Path(f"{database}-shm")):
        companion.unlink(missing_ok=True)
    database.write_bytes(b"this is not an SQLite database\n" * 200)


# -- the exit watcher ---------------------------------------------------------------------


def test_a_killed_child_is_noticed_without_a_request(server: LocalServer) -> None:
    heard = Heard()
    server.on_exit = heard.on_exit
    kill(server)
    heard.wait("exits")
    assert heard.exits == [-signal.SIGKILL] and server.exit_code == -signal.SIGKILL
    assert not server.running


def test_stopping_the_server_is_not_reported_as_an_exit(tmp_path: Path) -> None:
    heard = Heard()
    server = LocalServer(tmp_path / "data")
    server.on_exit = heard.on_exit
    server.start()
    server.stop()
    server.start()  # again, on the same port
    server.stop()
    assert heard.exits == [] and server.exit_code is None


# -- restarts -----------------------------------------------------------------------------


async def test_killing_the_embedded_child_brings_the_same_client_back(tmp_path: Path) -> None:
    heard = Heard()
    async with open_session(data_dir=tmp_path / "data") as session:
        supervisor, server = session.supervisor, session.local_server
        assert supervisor is not None and server is not None
        supervisor.set_callbacks(**heard.callbacks())
        before = await session.client.get_workspaces()
        url, old_pid, old_token = server.url, server.pid, session.client.token
        kill(server)
        await asyncio.to_thread(heard.wait, "restarts")
        assert heard.exits == [-signal.SIGKILL]
        assert heard.restarts == [(url, server.admin_token.get_secret_value())]
        assert server.url == url and server.pid != old_pid and server.data_dir == tmp_path / "data"
        assert session.client.token == server.admin_token != old_token
        after = await session.client.get_workspaces()  # the same client, no new session
        assert [w.id for w in after.workspaces] == [w.id for w in before.workspaces]
        assert heard.threads == {"local-server-supervisor"}  # never the event loop's thread
        assert supervisor.state is SupervisorState.RUNNING and supervisor.restarts == 1
    assert supervisor.state is SupervisorState.STOPPED and not server.running


def test_a_crash_loop_gives_up_and_says_where_the_log_is(server: LocalServer) -> None:
    heard = Heard()
    supervisor = Supervisor(server, delays=(0.0, 0.01), **heard.callbacks())
    supervisor.start()
    try:
        break_database(server.data_dir)
        kill(server)
        heard.wait("gave_up")
        assert heard.gave_up == [server.log_path] == [server.data_dir / "server.log"]
        assert heard.exits == [-signal.SIGKILL] and heard.restarts == []
        assert supervisor.state is SupervisorState.GAVE_UP and not server.running
        assert "file is not a database" in server.log_path.read_text()
    finally:
        supervisor.stop()


def test_after_giving_up_retry_starts_it_again(server: LocalServer) -> None:
    heard = Heard()
    client = FlashbackClient(server.url, token=server.admin_token)
    supervisor = Supervisor(server, client=client, delays=(0.01,), **heard.callbacks())
    supervisor.start()
    try:
        server.env["PYTHONHOME"] = "/nonexistent"  # the interpreter cannot even start
        kill(server)
        heard.wait("gave_up")
        assert heard.restarts == []
        del server.env["PYTHONHOME"]
        supervisor.retry()
        heard.wait("restarts")
        assert supervisor.state is SupervisorState.RUNNING and server.running
        assert client.token == server.admin_token
    finally:
        supervisor.stop()


def test_crashes_spread_over_more_than_the_window_are_forgiven(server: LocalServer) -> None:
    heard = Heard()
    now = [0.0]
    supervisor = Supervisor(server, delays=(0.0,), max_crashes=2, window=60.0,
                            clock=lambda: now[0], **heard.callbacks())
    supervisor.start()
    try:
        kill(server)
        heard.wait("restarts", 1)
        now[0] += 61  # the first crash is now out of the window
        kill(server)
        heard.wait("restarts", 2)
        kill(server)  # a second crash within the window: two is the limit
        heard.wait("gave_up")
        assert len(heard.exits) == 3 and len(heard.restarts) == 2
    finally:
        supervisor.stop()


def test_stop_ends_the_watch_and_the_child_stays_down(server: LocalServer) -> None:
    heard = Heard()
    supervisor = Supervisor(server, delays=(0.0,), **heard.callbacks())
    supervisor.start()
    supervisor.stop()
    kill(server)
    assert server.wait_exit(DEADLINE) == -signal.SIGKILL
    assert server.on_exit is None and supervisor.state is SupervisorState.STOPPED
    assert heard.exits == [] and not server.running
    with pytest.raises(ValueError):
        Supervisor(server, delays=())
