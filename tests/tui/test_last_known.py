"""Last-known lists and a platform that comes and goes, against the real local platform.

The first frame paints the snapshot before a held-back platform answers; the live answer
replaces it in place (cursor and filter kept); a snapshot of another user is dropped; a
platform stopped mid-session leaves the list browseable and offline until it is back; the
embedded platform's child killed comes back live with no restart, and a crash loop ends with
the log's path on screen. All at 80x24.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from flashback_tui.api.client import FlashbackClient
from flashback_tui.connect import Session, open_session
from flashback_tui.server.runner import LocalServer
from flashback_tui.settings import Profile
from flashback_tui.snapshot import SnapshotKey, SnapshotStore
from flashback_tui.tui.app import FlashbackApp
from flashback_tui.tui.last_known import WAIT_REASON
from flashback_tui.tui.messages import (
    ConfigsLoaded,
    ConfigsShown,
    PlatformGaveUp,
    PlatformStopped,
)
from flashback_tui.tui.screens.config_list import ConfigListScreen
from tests.tui.harness import screen_text, wait_for
from tests.tui.test_console import toasts
from tests.tui.test_list_behaviour import seed

SIZE = (80, 24)
NAMES = ("alpha-one", "beta-two", "gamma-three")


def opener_for(url: str, token: str, email: str, *,
               held: asyncio.Event | None = None) -> Any:
    """A real session on ``url`` as ``email``; with ``held``, it opens once that is set."""
    profile = Profile(name="test", url=url, email=email)

    @asynccontextmanager
    async def opener(**_: Any) -> AsyncIterator[Session]:
        if held is not None:
            await held.wait()
        async with FlashbackClient(url, token=token, timeout=5.0) as client:
            yield Session(client=client, profile=profile, url=url, credential_source="test",
                          account=email)

    return opener


def key_for(url: str, email: str) -> SnapshotKey:
    return SnapshotKey("test", url, email.lower())


def live_rows(app: FlashbackApp) -> ConfigListScreen | None:
    screen = app.screen
    if isinstance(screen, ConfigListScreen) and screen.freshness.live \
            and screen.table.total_count:
        return screen
    return None


async def keep_a_snapshot(url: str, token: str, email: str, store: SnapshotStore,
                          names: tuple[str, ...] = NAMES) -> None:
    """Run the app once, live, until its list is kept."""
    posted: list[Any] = []
    app = FlashbackApp(opener=opener_for(url, token, email), snapshots=store)
    async with app.run_test(size=SIZE, message_hook=posted.append) as pilot:
        await wait_for(lambda: live_rows(app), pilot)
        await wait_for(lambda: store.load_latest(key_for(url, email)) is not None, pilot)
    shown = [m for m in posted if isinstance(m, ConfigsShown)]
    assert shown and {llm.name for llm in shown[0].llms} >= set(names)


async def test_first_frame_paints_the_snapshot_then_live_replaces_it(
        platform, world, tmp_path: Path) -> None:
    token, email = world.tokens["ADMIN"], world.emails["ADMIN"]
    await seed(platform.url, token, world.workspace_id, dict.fromkeys(NAMES, "https://x.test"))
    store = SnapshotStore(tmp_path / "snapshots")
    await keep_a_snapshot(platform.url, token, email, store)

    held = asyncio.Event()
    app = FlashbackApp(opener=opener_for(platform.url, token, email, held=held),
                       snapshots=store, startup_key=key_for(platform.url, email))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        first = screen_text(app)
        assert app.client is None  # the platform has not answered
        assert "cached just now" in first and all(name in first for name in NAMES)
        notes = toasts(app)
        await pilot.press("n")
        await wait_for(lambda: f"New: waits: {WAIT_REASON}" in notes, pilot)
        await pilot.press("slash", *"beta", "enter")
        screen = app.screen
        assert isinstance(screen, ConfigListScreen)
        assert [row.cells[0] for row in screen.table.visible_rows] == ["beta-two"]
        held.set()
        await wait_for(lambda: live_rows(app), pilot)
        assert app.screen is screen  # replaced in place
        assert [row.cells[0] for row in screen.table.visible_rows] == ["beta-two"]
        assert screen.table.cursor_key == next(iter(screen.table.visible_rows)).key
        assert "cached" not in screen_text(app)


async def test_a_snapshot_of_another_user_is_dropped(platform, world, tmp_path: Path) -> None:
    token, email = world.tokens["ADMIN"], world.emails["ADMIN"]
    await seed(platform.url, token, world.workspace_id, {"only-admin-sees": "https://x.test"})
    store = SnapshotStore(tmp_path / "snapshots")
    await keep_a_snapshot(platform.url, token, email, store, names=("only-admin-sees",))
    # The guess named the admin (say, a profile's e-mail older than its credential), but the
    # session is another account's: the admin's rows go as soon as that is known.
    held = asyncio.Event()
    other = world.emails["NONE"]
    app = FlashbackApp(opener=opener_for(platform.url, world.tokens["NONE"], other, held=held),
                       snapshots=store, startup_key=key_for(platform.url, email))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "only-admin-sees" in screen_text(app)
        held.set()
        await wait_for(lambda: app.client is not None, pilot)
        await wait_for(lambda: "only-admin-sees" not in screen_text(app), pilot)
        lists = [s for s in app.screen_stack if isinstance(s, ConfigListScreen)]
        assert all(screen.table.total_count == 0 for screen in lists)


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[LocalServer]:
    server = LocalServer(tmp_path / "data", env={"FLASHBACK_PROBE_TIMEOUT": "2"})
    server.start()
    try:
        yield server
    finally:
        server.stop()


async def test_a_platform_stopped_mid_session_gives_the_offline_view(
        own_server: LocalServer) -> None:
    token = own_server.admin_token.get_secret_value()
    async with FlashbackClient(own_server.url, token=token) as client:
        workspace = (await client.get_workspaces()).workspaces[0].id
    await seed(own_server.url, token, workspace, dict.fromkeys(NAMES, "https://x.test"))
    app = FlashbackApp(opener=opener_for(own_server.url, token, "admin@localhost"))
    async with app.run_test(size=SIZE) as pilot:
        screen = await wait_for(lambda: live_rows(app), pilot)
        await asyncio.to_thread(own_server.stop)
        await pilot.press("r")
        await wait_for(lambda: "OFFLINE" in screen_text(app), pilot)
        text = screen_text(app)
        assert "last good answer" in text and "Cannot reach" in text
        assert all(name in text for name in NAMES)  # still browseable
        await pilot.press("slash", *"gamma", "enter")
        assert [row.cells[0] for row in screen.table.visible_rows] == ["gamma-three"]
        await pilot.press("down")
        await asyncio.to_thread(own_server.start)
        await pilot.press("r")
        await wait_for(lambda: live_rows(app) and "OFFLINE" not in screen_text(app), pilot)
        assert [row.cells[0] for row in screen.table.visible_rows] == ["gamma-three"]


def local_app(data_dir: Path, sessions: list[Session]) -> FlashbackApp:
    """The app on the real embedded platform of ``data_dir`` (a supervised child)."""

    @asynccontextmanager
    async def opener(**_: Any) -> AsyncIterator[Session]:
        async with open_session(data_dir=data_dir) as session:
            sessions.append(session)
            yield session

    return FlashbackApp(opener=opener)


async def test_killing_the_embedded_child_comes_back_live(tmp_path: Path) -> None:
    sessions: list[Session] = []
    seen: list[Any] = []
    app = local_app(tmp_path / "data", sessions)
    async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
        screen = await wait_for(lambda: isinstance(app.screen, ConfigListScreen)
                                and app.screen.freshness.live and app.screen, pilot)
        server = sessions[0].local_server
        assert server is not None and server.pid is not None
        old = server.pid
        os.kill(old, signal.SIGKILL)
        await wait_for(lambda: any(isinstance(m, PlatformStopped) for m in seen), pilot)
        stopped = next(m for m in seen if isinstance(m, PlatformStopped))
        assert stopped.code == -signal.SIGKILL
        await wait_for(lambda: server.pid not in (None, old) and screen.freshness.live
                       and "OFFLINE" not in screen_text(app), pilot)
        assert app.screen is screen and len(sessions) == 1  # no restart of the app
        assert "No configurations in Default yet" in screen_text(app)


async def test_a_crash_loop_ends_with_the_log_path_on_screen(tmp_path: Path) -> None:
    sessions: list[Session] = []
    seen: list[Any] = []
    app = local_app(tmp_path / "data", sessions)
    async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
        screen = await wait_for(lambda: isinstance(app.screen, ConfigListScreen)
                                and app.screen.freshness.live and app.screen, pilot)
        session = sessions[0]
        server, supervisor = session.local_server, session.supervisor
        assert server is not None and supervisor is not None
        for _ in range(3):
            pid = server.pid
            await wait_for(lambda: server.running, pilot)
            os.kill(pid, signal.SIGKILL)
            await wait_for(lambda pid=pid: server.pid != pid or supervisor.state == "gave_up",
                           pilot)
        await wait_for(lambda: any(isinstance(m, PlatformGaveUp) for m in seen), pilot)
        await wait_for(lambda: "OFFLINE" in screen_text(app), pilot)
        flat = "".join(screen_text(app).split())
        assert "keepsstopping" in flat
        assert "".join(str(supervisor.log_path).split()) in flat
        await pilot.press("r")  # try again: it comes back
        await wait_for(lambda: screen.freshness.live and "OFFLINE" not in screen_text(app),
                       pilot, within=30)


async def test_the_dashboard_keeps_its_last_figures_marked_stale(
        own_server: LocalServer) -> None:
    from tests.support.tui_session import open_dashboard

    token = own_server.admin_token.get_secret_value()
    async with FlashbackClient(own_server.url, token=token) as client:
        workspace = (await client.get_workspaces()).workspaces[0]
    await seed(own_server.url, token, workspace.id, {"dash-one": "https://x.test"})
    app = FlashbackApp(opener=opener_for(own_server.url, token, "admin@localhost"))
    async with app.run_test(size=SIZE) as pilot:
        await open_dashboard(pilot, workspace.id, workspace.name)
        assert "● Live" in screen_text(app)
        await asyncio.to_thread(own_server.stop)
        await wait_for(lambda: "STALE" in screen_text(app), pilot)
        assert "dash-one" in screen_text(app)  # the last figures stay
        await asyncio.to_thread(own_server.start)
        await wait_for(lambda: "● Live" in screen_text(app), pilot)


async def test_a_save_that_fails_in_a_restart_keeps_the_form(tmp_path: Path) -> None:
    from flashback_tui.tui.screens.config_form import ConfigFormScreen

    sessions: list[Session] = []
    seen: list[Any] = []
    app = local_app(tmp_path / "data", sessions)
    async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
        await wait_for(lambda: isinstance(app.screen, ConfigListScreen)
                       and app.screen.freshness.live, pilot)
        await pilot.press("n")
        form = await wait_for(lambda: isinstance(app.screen, ConfigFormScreen) and app.screen,
                              pilot)
        await pilot.press(*"typed-name")
        form.query_one("#endpoint").value = "https://typed.example.test"
        form.query_one("#secret").value = "sk-typed-0123456789abcdef"
        server = sessions[0].local_server
        assert server is not None and server.pid is not None
        os.kill(server.pid, signal.SIGKILL)
        await wait_for(lambda: any(isinstance(m, PlatformStopped) for m in seen), pilot)
        await pilot.press("ctrl+s")
        await wait_for(lambda: "Not saved" in screen_text(app), pilot)
        assert app.screen is form
        assert form.query_one("#name").value == "typed-name"
        assert form.query_one("#endpoint").value == "https://typed.example.test"
        assert "URL" not in screen_text(app)


async def test_an_unchanged_refresh_keeps_nothing_new_and_a_change_is_kept(
        platform, world, tmp_path: Path) -> None:
    token, email = world.tokens["ADMIN"], world.emails["ADMIN"]
    await seed(platform.url, token, world.workspace_id, {"steady-one": "https://x.test"})
    store = SnapshotStore(tmp_path / "snapshots")
    posted: list[Any] = []
    profile = Profile(name="test", url=platform.url, email=email, refresh_interval=0.5)
    app = FlashbackApp(opener=opener_for(platform.url, token, email), snapshots=store,
                       profile=profile)
    async with app.run_test(size=SIZE, message_hook=posted.append) as pilot:
        await wait_for(lambda: live_rows(app), pilot)

        def kept() -> list[ConfigsShown]:
            return [m for m in posted if isinstance(m, ConfigsShown)]

        def loads() -> int:
            return sum(isinstance(m, ConfigsLoaded) for m in posted)

        await wait_for(lambda: loads() >= 3, pilot)
        before, seen = len(kept()), loads()
        # Three more live refreshes of an unchanged list, each answered "not modified".
        await wait_for(lambda: loads() >= seen + 3, pilot)
        assert len(kept()) == before  # the same list is neither redrawn nor kept again
        await seed(platform.url, token, world.workspace_id, {"steady-two": "https://x.test"})
        await wait_for(lambda: "steady-two" in screen_text(app), pilot)
        await wait_for(lambda: len(kept()) > before, pilot)
        assert {llm.name for llm in kept()[-1].llms} >= {"steady-one", "steady-two"}
