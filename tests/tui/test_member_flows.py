"""Members through the real TUI at 80x24: add by e-mail, change a role, remove; the last
ADMIN cannot be removed and the platform's reason is shown; READ members see writes refused."""

from __future__ import annotations

from flashback_tui.server import admin
from flashback_tui.tui.screens.config_list import ConfigListScreen
from flashback_tui.tui.screens.confirm import ConfirmDialog
from flashback_tui.tui.screens.member_dialog import MemberDialog
from flashback_tui.tui.screens.members import MemberListScreen
from tests.tui.harness import make_app, screen_text, wait_for
from tests.tui.test_console import shown, toasts

SIZE = (80, 24)


def roles(screen: MemberListScreen) -> dict[str, str]:
    return {row.cells[0]: row.cells[2] for row in screen.table.visible_rows}


async def open_members(app, pilot) -> MemberListScreen:
    await wait_for(lambda: isinstance(app.screen, ConfigListScreen) and app.screen.loaded,
                   pilot)
    await pilot.press("m")
    return await wait_for(lambda: isinstance(app.screen, MemberListScreen)
                          and app.screen.loaded and app.screen, pilot)


def select(screen: MemberListScreen, email: str) -> None:
    keys = {row.cells[0]: row.key for row in screen.table.visible_rows}
    screen.table.move_cursor_to_key(keys[email])


async def test_add_change_role_remove_and_the_last_admin_guard(platform, world) -> None:
    newcomer = world.emails["NONE"]  # found by e-mail in another workspace the ADMIN sees
    other = admin.add_workspace(platform.data_dir, f"{world.workspace_name}-other")
    admin.add_member(platform.data_dir, other, world.emails["ADMIN"], "ADMIN")
    admin.add_member(platform.data_dir, other, newcomer, "READ")
    app = make_app(platform.url, world.tokens["ADMIN"], email=world.emails["ADMIN"],
                   default_workspace=world.workspace_id)
    notes = toasts(app)
    async with app.run_test(size=SIZE) as pilot:
        members = await open_members(app, pilot)
        assert roles(members)[world.emails["ADMIN"]] == "ADMIN"
        await pilot.press("n")
        await wait_for(lambda: isinstance(app.screen, MemberDialog), pilot)
        app.screen.query_one("#who").insert_text_at_cursor(newcomer)
        app.screen.query_one("#role").value = "WRITE"
        await pilot.press("ctrl+s")
        await wait_for(lambda: roles(members).get(newcomer) == "WRITE", pilot)

        select(members, newcomer)
        await pilot.press("e")
        await wait_for(lambda: isinstance(app.screen, MemberDialog), pilot)
        app.screen.query_one("#role").value = "ADMIN"
        await pilot.press("ctrl+s")
        await wait_for(lambda: roles(members).get(newcomer) == "ADMIN", pilot)
        select(members, newcomer)
        await pilot.press("d")
        await wait_for(lambda: isinstance(app.screen, ConfirmDialog), pilot)
        await pilot.press("y")
        await wait_for(lambda: newcomer not in roles(members), pilot)

        select(members, world.emails["ADMIN"])
        await pilot.press("d")
        await wait_for(lambda: isinstance(app.screen, ConfirmDialog), pilot)
        await pilot.press("y")
        await wait_for(lambda: shown(notes, "last ADMIN"), pilot)
        assert roles(members)[world.emails["ADMIN"]] == "ADMIN"


async def test_read_members_see_member_writes_refused(platform, world) -> None:
    app = make_app(platform.url, world.tokens["READ"], email=world.emails["READ"])
    notes = toasts(app)
    async with app.run_test(size=SIZE) as pilot:
        await open_members(app, pilot)
        assert "Only the workspace's ADMINs" in screen_text(app)
        for key, name in (("n", "Add"), ("e", "Change role"), ("d", "Remove")):
            await pilot.press(key)
            await wait_for(lambda name=name: shown(notes, f"{name}: not allowed: Only"), pilot)
        assert isinstance(app.screen, MemberListScreen)
