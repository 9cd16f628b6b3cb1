"""SVG snapshots of every screen state of the core TUI, built on fixed data."""

from __future__ import annotations

from collections import Counter

from textual.widgets import Input

from flashback_tui.api.errors import FlashbackConnectionError, ForbiddenError
from flashback_tui.api.models import AiLlmStats, AiModel, SystemEvent
from flashback_tui.tui.screens.config_detail import ConfigDetailScreen, DetailPartLoaded
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
    screen = (ConfigListScreen(pilot.app.state, workspace.id, workspace.name) if workspace
              else ConfigListScreen(pilot.app.state, None, "All workspaces"))
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
    """One workspace at 80x24: Status gets room first, the full status in the detail bar."""
    async def run_before(pilot) -> None:
        screen = await show_list(pilot)
        await pilot.press("down", "o")
        assert screen.table.cursor_key == "llm-0002"

    assert snap_compare(fixed_app(), terminal_size=SMALL, run_before=run_before)


def test_config_list_all_workspaces(snap_compare) -> None:
    """All workspaces at 80x24: a Workspace column tells same-named rows apart."""
    mixed = [*CONFIGS[:3], CONFIGS[0].model_copy(update={"id": "llm-0009",
                                                        "workspace_id": "ws-lab"}),
             CONFIGS[4].model_copy(update={"workspace_id": "ws-audit"})]

    async def run_before(pilot) -> None:
        await show_list(pilot, configs=mixed, workspace=None)

    assert snap_compare(fixed_app(), terminal_size=SMALL, run_before=run_before)


def test_config_detail(snap_compare) -> None:
    """The detail view at 80x24: every field, usage, models and the change history."""
    async def run_before(pilot) -> None:
        await show_list(pilot)
        screen = ConfigDetailScreen(pilot.app.state, CONFIGS[0])
        await pilot.app.push_screen(screen)
        screen.post_message(DetailPartLoaded("usage", AiLlmStats(
            ai_llm_id="llm-0001", total_api_calls=1234, total_tokens_in=56000,
            total_tokens_out=78000, total_policy_violations=2)))
        screen.post_message(DetailPartLoaded("models", [
            AiModel(id="gpt-4o", name="gpt-4o", ai_type="OPENAI", llm_type="chat",
                    llm_provider="OPENAI"),
            AiModel(id="gpt-4o-mini", name="gpt-4o-mini", ai_type="OPENAI",
                    llm_type="chat", llm_provider="OPENAI")]))
        screen.post_message(DetailPartLoaded("history", ([
            SystemEvent(id=2, timestamp="2024-02-01T09:12:00Z", context_id="llm-0001",
                        context="aillm", event="updated", org_id="org", user_id="u1",
                        user_email="ops@example.test",
                        json_data='{"changed": ["endpoint", "secret"]}'),
            SystemEvent(id=1, timestamp="2024-01-15T10:30:00Z", context_id="llm-0001",
                        context="aillm", event="created", org_id="org", user_id="u1",
                        user_email="ops@example.test")], 2)))
        await pilot.pause()

    assert snap_compare(fixed_app(), terminal_size=SMALL, run_before=run_before)


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


def test_config_list_backend_unreachable(snap_compare) -> None:
    async def run_before(pilot) -> None:
        screen = await show_list(pilot)
        screen.load_error = FlashbackConnectionError("connection refused", request="GET /ai/llm")
        screen.show_state()
        await pilot.pause()

    assert snap_compare(fixed_app(), terminal_size=SMALL, run_before=run_before)


def test_create_form_with_local_errors(snap_compare) -> None:
    async def run_before(pilot) -> None:
        await show_list(pilot)
        await pilot.app.push_screen(ConfigFormScreen(pilot.app.state, None,
                                                     workspaces=WORKSPACES[:2],
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


def test_help_over_the_list(snap_compare) -> None:
    """The help at 80x24: every key of the list (those the key bar had no room for too)."""
    async def run_before(pilot) -> None:
        await show_list(pilot)
        await pilot.press("question_mark")
        await pilot.pause()

    assert snap_compare(fixed_app(), terminal_size=SMALL, run_before=run_before)
