"""The configuration flows end to end: the real TUI, the real client, the real local server.

The only stand-in is the AI provider (``FakeProvider`` on loopback).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from flashback_tui.api.models import DEFAULT_ENDPOINTS, AiType
from flashback_tui.server import admin
from flashback_tui.tui.screens.config_form import ConfigFormScreen, RotateSecretDialog
from flashback_tui.tui.screens.config_list import ConfigListScreen
from flashback_tui.tui.screens.confirm import ConfirmDialog
from flashback_tui.tui.screens.delete_dialog import DeleteConfigDialog
from tests.support.fake_provider import FakeProvider
from tests.tui.harness import SIZE, make_app, screen_text, wait_for

GOOD_KEY = "sk-good-0123456789abcdef"
CANARY = "sk-CANARY-7f3e9d1c5b"


@pytest.fixture(scope="module")
def provider() -> Iterator[FakeProvider]:
    with FakeProvider(valid_keys={GOOD_KEY, CANARY}) as fake:
        yield fake


async def open_list(app, pilot) -> ConfigListScreen:
    """Wait until the configuration list has loaded."""
    return await wait_for(
        lambda: isinstance(app.screen, ConfigListScreen) and app.screen.loaded and app.screen,
        pilot,
    )


def status(screen: ConfigListScreen, name: str) -> str:
    for row in screen.table.visible_rows:
        if row.cells[0] == name:
            return row.cells[-1]
    return ""


async def type_into(pilot, selector: str, text: str) -> None:
    """Focus an input, empty it, and type ``text`` (long text is inserted in one go)."""
    widget = pilot.app.screen.query_one(selector)
    widget.focus()
    widget.value = ""
    if len(text) <= 4:
        await pilot.press(*text)
    else:
        widget.insert_text_at_cursor(text)
    await pilot.pause()


async def create(pilot, name: str, endpoint: str, secret: str) -> None:
    await pilot.press("n")
    await wait_for(lambda: isinstance(pilot.app.screen, ConfigFormScreen), pilot)
    await type_into(pilot, "#name", name)
    await type_into(pilot, "#endpoint", endpoint)
    await type_into(pilot, "#secret", secret)
    await pilot.press("ctrl+s")


async def test_create_then_validates_in_background(platform, world, provider) -> None:
    app = make_app(platform.url, world.tokens["ADMIN"], email=world.emails["ADMIN"])
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_list(app, pilot)
        assert "No configurations" in screen_text(app)
        await create(pilot, "Good one", provider.endpoint("ok"), GOOD_KEY)
        await wait_for(lambda: app.screen is screen, pilot)
        await wait_for(lambda: status(screen, "Good one") == "Valid", pilot)
        await create(pilot, "Bad one", provider.endpoint("ok"), "sk-wrong-key-000000")
        await wait_for(lambda: status(screen, "Bad one").startswith("Invalid"), pilot)
        assert "401" in status(screen, "Bad one") or "nauthor" in status(screen, "Bad one")


def select_row(screen: ConfigListScreen, name: str) -> None:
    for index, row in enumerate(screen.table.visible_rows):
        if row.cells[0] == name:
            screen.table.cursor_row = index
            return
    raise AssertionError(f"no row named {name}")


async def test_edit_keeps_secret_then_rotate_revalidates(platform, world, provider) -> None:
    app = make_app(platform.url, world.tokens["WRITE"], email=world.emails["WRITE"])
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_list(app, pilot)
        await create(pilot, "Rotating", provider.endpoint("ok"), GOOD_KEY)
        await wait_for(lambda: status(screen, "Rotating") == "Valid", pilot)

        # Edit: rename only; the blank secret keeps the stored one (still valid afterwards).
        select_row(screen, "Rotating")
        await pilot.press("e")
        form = await wait_for(lambda: isinstance(app.screen, ConfigFormScreen) and app.screen,
                              pilot)
        assert "blank keeps the stored secret" in screen_text(app)
        await type_into(pilot, "#name", "Renamed")
        await pilot.press("ctrl+s")
        await wait_for(lambda: app.screen is screen, pilot)
        await wait_for(lambda: status(screen, "Renamed") == "Valid", pilot)
        assert form.llm is not None

        # Rotate to a wrong secret: validation runs again and says Invalid.
        select_row(screen, "Renamed")
        await pilot.press("R")
        await wait_for(lambda: isinstance(app.screen, RotateSecretDialog), pilot)
        await type_into(pilot, "#secret", "sk-rotated-but-wrong")
        await pilot.press("enter")
        await wait_for(lambda: status(screen, "Renamed").startswith("Invalid"), pilot)

        # And back to the good one.
        await pilot.press("R")
        await wait_for(lambda: isinstance(app.screen, RotateSecretDialog), pilot)
        await type_into(pilot, "#secret", GOOD_KEY)
        await pilot.press("enter")
        await wait_for(lambda: status(screen, "Renamed") == "Valid", pilot)


async def test_form_errors_next_to_fields_and_nothing_lost(platform, world, provider) -> None:
    app = make_app(platform.url, world.tokens["ADMIN"], email=world.emails["ADMIN"])
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_list(app, pilot)
        await create(pilot, "Taken", provider.endpoint("ok"), GOOD_KEY)
        await wait_for(lambda: status(screen, "Taken") == "Valid", pilot)

        # Local checks: secret required on create; endpoint checked as you type.
        await pilot.press("n")
        form = await wait_for(lambda: isinstance(app.screen, ConfigFormScreen) and app.screen,
                              pilot)
        await type_into(pilot, "#name", "Taken")
        await type_into(pilot, "#endpoint", "ftp://nope")
        await pilot.pause()
        assert form.query_one("#endpoint-error").display
        assert "http" in str(form.query_one("#endpoint-error").render())
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is form
        assert form.query_one("#secret-error").display

        # A duplicate name (any case) is refused as you type; the typed values stay.
        await type_into(pilot, "#endpoint", provider.endpoint("ok"))
        await type_into(pilot, "#secret", GOOD_KEY)
        await type_into(pilot, "#name", "TAKEN")
        await wait_for(lambda: form.query_one("#name-error").display, pilot)
        assert "already exists" in str(form.query_one("#name-error").render())
        await type_into(pilot, "#name", "Taken")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is form
        assert form.query_one("#name").value == "Taken"
        assert form.query_one("#secret").value == GOOD_KEY

        # Changing the provider type pre-fills its endpoint only when not customised.
        form.query_one("#endpoint").value = ""
        form.query_one("#ai_type").value = AiType.ANTHROPIC
        await pilot.pause()
        assert form.query_one("#endpoint").value == DEFAULT_ENDPOINTS[AiType.ANTHROPIC]
        form.query_one("#endpoint").value = "http://127.0.0.1:9/custom"
        form.query_one("#ai_type").value = AiType.GOOGLE
        await pilot.pause()
        assert form.query_one("#endpoint").value == "http://127.0.0.1:9/custom"
        # Esc with changes asks first: n keeps editing, y discards.
        await pilot.press("escape")
        await wait_for(lambda: isinstance(app.screen, ConfirmDialog), pilot)
        await pilot.press("n")
        await wait_for(lambda: app.screen is form, pilot)
        await pilot.press("escape")
        await wait_for(lambda: isinstance(app.screen, ConfirmDialog), pilot)
        await pilot.press("y")
        await wait_for(lambda: app.screen is screen, pilot)


async def test_delete_in_use_is_explained_then_delete(platform, world, provider) -> None:
    app = make_app(platform.url, world.tokens["ADMIN"], email=world.emails["ADMIN"])
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_list(app, pilot)
        await create(pilot, "Used", provider.endpoint("ok"), GOOD_KEY)
        await create(pilot, "Unused", provider.endpoint("ok"), GOOD_KEY)
        await wait_for(lambda: status(screen, "Unused") == "Valid", pilot)
        used_id = next(r.key for r in screen.table.visible_rows if r.cells[0] == "Used")
        admin.add_repo(platform.data_dir, "docs-bot", world.workspace_id, used_id)
        await pilot.press("r")
        await wait_for(lambda: any(r.cells[0] == "Used" and r.cells[4] == "1"
                                   for r in screen.table.visible_rows), pilot)

        select_row(screen, "Used")
        await pilot.press("d")
        dialog = await wait_for(
            lambda: isinstance(app.screen, DeleteConfigDialog) and app.screen, pilot)
        assert app.focused is dialog.query_one("#cancel")
        assert "docs-bot" in screen_text(app)
        await pilot.press("enter")  # Cancel is focused: nothing is deleted
        await wait_for(lambda: app.screen is screen, pilot)
        assert status(screen, "Used")

        await pilot.press("d")
        dialog = await wait_for(
            lambda: isinstance(app.screen, DeleteConfigDialog) and app.screen, pilot)
        await pilot.click("#delete")
        await wait_for(lambda: dialog.query_one("#delete-error").display, pilot)
        text = screen_text(app)
        assert "cannot be deleted while repositories use it" in text
        await pilot.press("escape")
        await wait_for(lambda: app.screen is screen, pilot)

        select_row(screen, "Unused")
        await pilot.press("d")
        await wait_for(lambda: isinstance(app.screen, DeleteConfigDialog), pilot)
        await pilot.press("right", "enter")
        await wait_for(lambda: app.screen is screen and not status(screen, "Unused"), pilot)
        assert status(screen, "Used")
