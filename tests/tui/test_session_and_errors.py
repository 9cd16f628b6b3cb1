"""Sessions and failures: the workspace picker, an unreachable backend, a refused token,
the server stopping mid-session (and coming back), and a canary secret that never shows.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from flashback_tui.server import admin
from flashback_tui.server.runner import LocalServer
from flashback_tui.tui.screens.config_form import ConfigFormScreen, RotateSecretDialog
from flashback_tui.tui.screens.config_list import ConfigListScreen
from flashback_tui.tui.screens.delete_dialog import DeleteConfigDialog
from flashback_tui.tui.screens.workspaces import WorkspacesScreen
from tests.support.fake_provider import FakeProvider, closed_port_url
from tests.tui.harness import SIZE, make_app, screen_text, wait_for

CANARY = "sk-CANARY-5e1f0a9b77c3d2"
CANARY_KEY = "AKIA-CANARY-KEY-0042"


@pytest.fixture(scope="module")
def provider() -> Iterator[FakeProvider]:
    with FakeProvider(valid_keys={CANARY}) as fake:
        yield fake


async def test_picker_roles_counts_filter_and_w_returns(platform, world) -> None:
    other = admin.add_workspace(platform.data_dir, f"zz-other-{uuid.uuid4().hex[:6]}")
    admin.add_member(platform.data_dir, other, world.emails["READ"], "WRITE")
    app = make_app(platform.url, world.tokens["READ"], email=world.emails["READ"])
    async with app.run_test(size=SIZE) as pilot:
        picker = await wait_for(
            lambda: isinstance(app.screen, WorkspacesScreen) and app.screen.counts is not None
            and app.screen, pilot)
        rows = {row.cells[0]: row.cells for row in picker.table.visible_rows}
        assert rows[world.workspace_name][1] == "READ"
        assert any(cells[1] == "WRITE" for name, cells in rows.items()
                   if name.startswith("zz-other"))
        assert "All workspaces" in rows
        await pilot.press("slash", *"zz-oth", "enter")
        assert next(r.cells[0] for r in picker.table.visible_rows).startswith("zz-other")
        await pilot.press("enter")
        await wait_for(lambda: isinstance(app.screen, ConfigListScreen)
                                and app.screen.loaded and app.screen, pilot)
        assert "Role: WRITE" in screen_text(app)
        assert "Press n to add the first one" in screen_text(app)
        await pilot.press("w")
        await wait_for(lambda: app.screen is picker, pilot)


async def test_unreachable_backend_says_what_to_do(tmp_path: Path) -> None:
    app = make_app(closed_port_url(""), "fba_whatever")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: "Cannot reach" in screen_text(app), pilot)
        text = screen_text(app)
        assert "Check that the backend is running" in text
        assert "Traceback" not in text


async def test_refused_token_says_sign_in(platform) -> None:
    app = make_app(platform.url, "fba_not-a-real-token")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: "Not signed in" in screen_text(app), pilot)
        assert "flashback-tui login" in screen_text(app)


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[LocalServer]:
    server = LocalServer(tmp_path / "data", env={"FLASHBACK_PROBE_TIMEOUT": "2"})
    server.start()
    try:
        yield server
    finally:
        server.stop()


async def test_server_stopped_mid_session_then_recovers(own_server: LocalServer,
                                                        provider) -> None:
    token = own_server.admin_token.get_secret_value()
    app = make_app(own_server.url, token, email="admin@localhost")
    async with app.run_test(size=SIZE) as pilot:
        screen = await wait_for(lambda: isinstance(app.screen, ConfigListScreen)
                                and app.screen.loaded and app.screen, pilot)
        assert "Workspace: Default" in screen_text(app)
        own_server.stop()
        await pilot.press("r")
        # The list's own line, not the toast that comes first with the same words.
        await wait_for(lambda: "Retrying automatically" in screen_text(app), pilot)
        assert "Cannot reach" in screen_text(app)
        own_server.start()
        await wait_for(lambda: screen.load_error is None and screen.loaded, pilot, within=20)
        assert "Cannot reach" not in screen_text(app)
        assert "No configurations in Default yet" in screen_text(app)


async def test_canary_secret_never_on_screen(platform, world, provider) -> None:
    app = make_app(platform.url, world.tokens["ADMIN"], email=world.emails["ADMIN"])
    seen: list[str] = []

    def look() -> str:
        text = screen_text(app)
        seen.append(text)
        return text

    async with app.run_test(size=SIZE) as pilot:
        screen = await wait_for(lambda: isinstance(app.screen, ConfigListScreen)
                                and app.screen.loaded and app.screen, pilot)
        await pilot.press("n")
        form = await wait_for(lambda: isinstance(app.screen, ConfigFormScreen) and app.screen,
                              pilot)
        await pilot.press(*"canary")
        form.query_one("#endpoint").value = provider.endpoint("ok")
        form.query_one("#key").focus()
        await pilot.press(*CANARY_KEY[:4])
        form.query_one("#key").insert_text_at_cursor(CANARY_KEY[4:])
        form.query_one("#secret").focus()
        await pilot.press(*CANARY[:4])
        form.query_one("#secret").insert_text_at_cursor(CANARY[4:])
        look()
        await pilot.press("ctrl+s")
        await wait_for(lambda: app.screen is screen and any(
            r.cells[0] == "canary" and r.cells[-1] == "Valid" for r in screen.table.visible_rows),
            pilot)
        look()
        await pilot.press("e")
        await wait_for(lambda: isinstance(app.screen, ConfigFormScreen), pilot)
        look()
        await pilot.press("escape")
        await pilot.press("R")
        dialog = await wait_for(
            lambda: isinstance(app.screen, RotateSecretDialog) and app.screen, pilot)
        dialog.query_one("#secret").insert_text_at_cursor(CANARY)
        look()
        await pilot.press("escape", "d")
        await wait_for(lambda: isinstance(app.screen, DeleteConfigDialog), pilot)
        look()
    assert len(seen) == 5
    for text in seen:
        assert CANARY not in text
        assert CANARY_KEY not in text
        assert CANARY[-8:] not in text
    assert any("****0042" in text for text in seen)  # the masked key is shown, nothing more


async def test_backend_down_at_start_then_r_reconnects(own_server: LocalServer) -> None:
    token = own_server.admin_token.get_secret_value()
    own_server.stop()
    app = make_app(own_server.url, token, email="admin@localhost")
    async with app.run_test(size=SIZE) as pilot:
        # The list's own line, not the toast that comes first with the same words.
        await wait_for(lambda: "Retrying automatically; press r to retry now"
                       in screen_text(app), pilot)
        assert "Cannot reach" in screen_text(app)
        own_server.start()
        await pilot.press("r")
        screen = await wait_for(lambda: isinstance(app.screen, ConfigListScreen)
                                and app.screen.loaded and app.screen, pilot)
        assert screen.workspace_name == "Default"
        assert "Cannot reach" not in screen_text(app)
