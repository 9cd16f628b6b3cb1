"""The audit trail through the real TUI at 80x24: changes listed newest first, unread marked,
marked read and unread, filtered by context and by user."""

from __future__ import annotations

from textual.widgets import Input, Select

from flashback_tui.tui.screens.config_list import ConfigListScreen
from flashback_tui.tui.screens.event_filters import EventFiltersDialog
from flashback_tui.tui.screens.events import UNREAD, EventListScreen
from tests.gateway.helpers import Api
from tests.tui.harness import make_app, screen_text, wait_for

SIZE = (80, 24)


def rows(screen: EventListScreen) -> list[tuple[str, ...]]:
    return [row.cells for row in screen.table.visible_rows]


async def test_events_unread_marked_read_and_filtered(platform, world) -> None:
    api = Api(platform.url, world.tokens["WRITE"])
    api.call("POST", "/repo", json={"name": "audited", "workspaceId": world.workspace_id,
                                    "storageType": "S3", "mode": "NORMAL"})
    app = make_app(platform.url, world.tokens["ADMIN"], email=world.emails["ADMIN"])
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: isinstance(app.screen, ConfigListScreen) and app.screen.loaded,
                       pilot)
        await pilot.press("h")
        events = await wait_for(lambda: isinstance(app.screen, EventListScreen)
                                and app.screen.loaded and app.screen, pilot)
        newest = rows(events)[0]
        assert newest[0] == UNREAD and newest[2:5] == ("repo", "created", world.emails["WRITE"])
        assert f"{events.total} events" in screen_text(app)
        await pilot.press("u")
        await wait_for(lambda: rows(events)[0][0] == "", pilot)
        await pilot.press("u")
        await wait_for(lambda: rows(events)[0][0] == UNREAD, pilot)

        await pilot.press("f")
        dialog = await wait_for(lambda: isinstance(app.screen, EventFiltersDialog)
                                and app.screen, pilot)
        dialog.query_one("#context", Select).value = "workspaceuser"
        await pilot.press("ctrl+s")
        await wait_for(lambda: events.loaded and rows(events)
                       and all(r[2] == "workspaceuser" for r in rows(events)), pilot)
        assert "context workspaceuser" in screen_text(app)
        await pilot.press("f")
        dialog = await wait_for(lambda: isinstance(app.screen, EventFiltersDialog)
                                and app.screen, pilot)
        await pilot.press("ctrl+r")
        await pilot.press("f")
        dialog = await wait_for(lambda: isinstance(app.screen, EventFiltersDialog)
                                and app.screen, pilot)
        dialog.query_one("#user", Input).value = world.emails["WRITE"]
        await pilot.press("ctrl+s")
        await wait_for(lambda: app.screen is events and rows(events)
                       and all(r[4] == world.emails["WRITE"] for r in rows(events)), pilot)


async def test_every_console_screen_is_in_the_palette_and_the_help(platform, world) -> None:
    from flashback_tui.tui.screens.help import help_entries

    app = make_app(platform.url, world.tokens["READ"], email=world.emails["READ"])
    async with app.run_test(size=SIZE) as pilot:
        screen = await wait_for(lambda: isinstance(app.screen, ConfigListScreen)
                                and app.screen.loaded and app.screen, pilot)
        titles = {command.title for command in app.get_system_commands(screen)}
        wanted = {"Repositories", "Policies", "Members", "Events", "Violations"}
        assert wanted <= titles
        helped = {entry.description for entry in help_entries(screen)}
        assert wanted <= helped
        assert "? more" in screen_text(app)
