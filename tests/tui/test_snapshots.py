"""SVG snapshots of every screen state of the core TUI, built on fixed data."""

from __future__ import annotations

from collections import Counter

from textual.widgets import Input

from flashback_tui.api.errors import FlashbackConnectionError, ForbiddenError
from flashback_tui.tui.screens.config_form import ConfigFormScreen, RotateSecretDialog
from flashback_tui.tui.screens.config_list import ConfigListScreen
from flashback_tui.tui.screens.delete_dialog import DeleteConfigDialog
from flashback_tui.tui.screens.workspaces import WorkspacesScreen
from tests.tui.fixed_data import CONFIGS, WORKSPACES, fixed_app

WIDE = (100, 30)
SMALL = (80, 24)


def steady_cursors(pilot) -> None:
    """Stop text cursors from blinking so every run draws the same frame."""
    for box in pilot.app.screen.query(Input):
        box.cursor_blink = False


async def show_list(pilot, configs=CONFIGS, workspace=WORKSPACES[0],
                    available=None) -> ConfigListScreen:
    screen = ConfigListScreen(pilot.app.state, workspace.id, workspace.name)
    await pilot.app.push_screen(screen)
    screen.show_configs(list(configs), available)
    steady_cursors(pilot)
    await pilot.pause()
    return screen


def test_workspace_picker(snap_compare) -> None:
    async def run_before(pilot) -> None:
        picker = pilot.app.screen
        assert isinstance(picker, WorkspacesScreen)
        picker.counts = Counter({"ws-prod": 5, "ws-lab": 12})
        picker.show_workspaces()
        steady_cursors(pilot)

    assert snap_compare(fixed_app(), terminal_size=SMALL, run_before=run_before)


def test_connecting(snap_compare) -> None:
    assert snap_compare(fixed_app(connecting=True), terminal_size=SMALL)


def test_config_list(snap_compare) -> None:
    assert snap_compare(fixed_app(), terminal_size=WIDE, run_before=show_list)


def test_config_list_small_terminal(snap_compare) -> None:
    assert snap_compare(fixed_app(), terminal_size=SMALL, run_before=show_list)


def test_config_list_empty(snap_compare) -> None:
    async def run_before(pilot) -> None:
        await show_list(pilot, configs=[])

    assert snap_compare(fixed_app(), terminal_size=SMALL, run_before=run_before)


def test_config_list_filtered(snap_compare) -> None:
    assert snap_compare(fixed_app(), terminal_size=SMALL, run_before=show_list,
                        press=["slash", "o", "p", "e", "n"])


def test_config_list_read_only_member(snap_compare) -> None:
    async def run_before(pilot) -> None:
        await show_list(pilot, workspace=WORKSPACES[2],
                        configs=[c.model_copy(update={"workspace_id": "ws-audit"})
                                 for c in CONFIGS])

    assert snap_compare(fixed_app(), terminal_size=SMALL, run_before=run_before)


def test_config_list_read_only_mode(snap_compare) -> None:
    assert snap_compare(fixed_app(read_only=True), terminal_size=SMALL, run_before=show_list)


def test_config_list_validating(snap_compare) -> None:
    async def run_before(pilot) -> None:
        screen = await show_list(pilot)
        screen._validating = {"llm-0002", "llm-0003"}  # as if two answers were pending
        screen._progress_total, screen._progress_done = 5, 3
        screen.table.update_rows(screen._row(c) for c in CONFIGS)
        screen._show_progress()
        await pilot.pause()

    assert snap_compare(fixed_app(), terminal_size=SMALL, run_before=run_before)


def test_config_list_backend_unreachable(snap_compare) -> None:
    async def run_before(pilot) -> None:
        screen = await show_list(pilot)
        screen.load_error = FlashbackConnectionError("connection refused", request="GET /ai/llm")
        screen._show_state()
        await pilot.pause()

    assert snap_compare(fixed_app(), terminal_size=SMALL, run_before=run_before)


def test_create_form_with_local_errors(snap_compare) -> None:
    async def run_before(pilot) -> None:
        await show_list(pilot)
        await pilot.app.push_screen(ConfigFormScreen(pilot.app.state, None, workspaces=WORKSPACES[:2],
                                                     default_workspace_id="ws-prod"))
        await pilot.pause()
        pilot.app.screen.query_one("#endpoint").value = "ftp://example"
        steady_cursors(pilot)
        await pilot.pause()
        await pilot.press("ctrl+s")

    assert snap_compare(fixed_app(), terminal_size=SMALL, run_before=run_before)


def test_edit_form(snap_compare) -> None:
    async def run_before(pilot) -> None:
        await show_list(pilot)
        await pilot.app.push_screen(ConfigFormScreen(pilot.app.state, CONFIGS[0]))
        steady_cursors(pilot)
        await pilot.pause()

    assert snap_compare(fixed_app(), terminal_size=SMALL, run_before=run_before)


def test_rotate_dialog(snap_compare) -> None:
    async def run_before(pilot) -> None:
        await show_list(pilot)
        await pilot.app.push_screen(RotateSecretDialog(pilot.app.state, CONFIGS[0]))
        steady_cursors(pilot)
        await pilot.pause()

    assert snap_compare(fixed_app(), terminal_size=SMALL, run_before=run_before)


def test_delete_dialog(snap_compare) -> None:
    async def run_before(pilot) -> None:
        await show_list(pilot)
        await pilot.app.push_screen(DeleteConfigDialog(pilot.app.state, CONFIGS[0]))
        await pilot.pause()

    assert snap_compare(fixed_app(), terminal_size=SMALL, run_before=run_before)


def test_delete_dialog_in_use(snap_compare) -> None:
    async def run_before(pilot) -> None:
        await show_list(pilot)
        dialog = DeleteConfigDialog(pilot.app.state, CONFIGS[0])
        await pilot.app.push_screen(dialog)
        await pilot.pause()
        dialog.on_worker_failed(None, ForbiddenError("configuration is in use", status=403))
        await pilot.pause()

    assert snap_compare(fixed_app(), terminal_size=SMALL, run_before=run_before)
