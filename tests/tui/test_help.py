"""The help dialog: the bindings of the screen below and of the app, remapped keys, closing."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from flashback_tui.settings import Profile
from flashback_tui.tui.app import FlashbackApp
from flashback_tui.tui.screens.config_list import ConfigListScreen
from flashback_tui.tui.screens.help import HelpScreen
from tests.support.tui_session import open_dashboard, session_opener, wait_until


def make_app(url: str, token: str, *, read_only: bool = False, **profile: object
             ) -> FlashbackApp:
    chosen = Profile(name="test", url=url, refresh_interval=3600, **profile)
    return FlashbackApp(opener=session_opener(url, token, profile=chosen), profile=chosen,
                        read_only=read_only)


def help_rows(app: FlashbackApp) -> dict[str, str]:
    """Binding id (or action, for bindings without one) -> the keys shown for it."""
    assert isinstance(app.screen, HelpScreen)
    table = app.screen.query_one(DataTable)
    rows = {}
    for row_key in table.rows:
        keys, action, binding_id, _scope = (
            cell.plain if isinstance(cell, Text) else str(cell) for cell in table.get_row(row_key)
        )
        rows[binding_id or action] = keys
    return rows


async def test_help_lists_the_screen_and_app_bindings_and_closes_every_way(platform, world):
    app = make_app(platform.url, world.tokens["READ"])
    async with app.run_test(size=(80, 16)) as pilot:
        stats = await open_dashboard(pilot, world.workspace_id, world.workspace_name)
        for opener, closer in (("question_mark", "escape"), ("f1", "q"),
                               ("question_mark", "question_mark"), ("f1", "f1")):
            await pilot.press(opener)
            await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen), what="help")
            rows = help_rows(app)
            assert rows["stats.pause"] == "p"
            assert rows["stats.reload"] == "r"
            assert rows["stats.back"] == "esc"
            assert rows["app.quit"] == "q"
            assert rows["app.help"] == "?, f1"
            assert rows["app.workspaces"] == "w"
            table = app.screen.query_one(DataTable)
            assert table.max_scroll_y > 0  # more keys than lines: it scrolls
            await pilot.press("ctrl+end")
            await wait_until(pilot, lambda t=table: t.scroll_y == t.max_scroll_y,
                             what="scrolling to the end")
            await pilot.press(closer)
            await wait_until(pilot, lambda: app.screen is stats, what="help to close")
        assert app.is_running  # q closed the help, it did not quit


async def test_help_shows_remapped_keys(platform, world):
    app = make_app(platform.url, world.tokens["READ"], keymap={"stats.pause": "x"})
    async with app.run_test(size=(100, 30)) as pilot:
        stats = await open_dashboard(pilot, world.workspace_id, world.workspace_name)
        await pilot.press("f1")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen), what="help")
        assert help_rows(app)["stats.pause"] == "x"
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is stats, what="help to close")
        await pilot.press("x")
        assert stats.paused


async def test_help_over_a_read_only_list_omits_write_actions(platform, world):
    app = make_app(platform.url, world.tokens["ADMIN"], read_only=True,
                   default_workspace=world.workspace_name)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, ConfigListScreen)
                         and app.screen.workspace_id == world.workspace_id
                         and app.screen.loaded, what="the configuration list")
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen), what="help")
        rows = help_rows(app)
        assert rows["configs.filter"] == "/"
        assert rows["configs.stats"] == "s"
        assert rows["configs.validate"] == "v"
        for write in ("configs.new", "configs.edit", "configs.delete", "configs.rotate"):
            assert write not in rows
        assert "Keys · Config list" in str(app.screen.query_one("#help-title").render())
