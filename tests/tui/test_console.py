"""The TUI as a daily console at 80x24, driven through real flows against the real platform:
details, copying the id, feedback for every action, live lists, plain words, settings."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from flashback_tui.api.client import FlashbackClient
from flashback_tui.api.models import AiLlmCreate, AiType
from flashback_tui.settings import load_settings
from flashback_tui.tui.messages import ShowDetails, ValidationsFinished
from flashback_tui.tui.screens.config_detail import ConfigDetailScreen
from flashback_tui.tui.screens.config_form import SECRET_AGAIN, ConfigFormScreen
from flashback_tui.tui.screens.config_list import ConfigListScreen
from flashback_tui.tui.screens.delete_dialog import DeleteConfigDialog
from tests.support.fake_provider import FakeProvider
from tests.tui.harness import make_app, screen_text, wait_for

SMALL = (80, 24)
GOOD_KEY = "sk-good-0123456789abcdef"


@pytest.fixture(scope="module")
def provider() -> Iterator[FakeProvider]:
    with FakeProvider(valid_keys={GOOD_KEY}) as fake:
        yield fake


async def seed(url: str, token: str, workspace_id: str, configs: dict[str, str]
               ) -> dict[str, str]:
    ids = {}
    async with FlashbackClient(url, token=token) as client:
        for name, endpoint in configs.items():
            body = AiLlmCreate(name=name, ai_type=AiType.OTHER, endpoint=endpoint,
                               secret=SecretStr(GOOD_KEY), workspace_id=workspace_id)
            ids[name] = (await client.create_ai_llm(body)).ai_llm_id
    return ids


async def open_list(app, pilot, count: int = 1) -> ConfigListScreen:
    return await wait_for(lambda: isinstance(app.screen, ConfigListScreen) and app.screen.loaded
                          and app.screen.table.total_count >= count and app.screen, pilot)


def toasts(app) -> list[str]:
    """Every notification the app shows from now on (title and text), as a live list."""
    seen: list[str] = []
    notify = app.notify

    def recording(message, *args, **kwargs):
        seen.append(f"{kwargs.get('title') or ''}: {message}")
        return notify(message, *args, **kwargs)

    app.notify = recording
    return seen


def shown(seen: list[str], text: str) -> bool:
    return any(text in note for note in seen)


def select(screen: ConfigListScreen, name: str) -> None:
    for index, row in enumerate(screen.table.visible_rows):
        if row.cells[0] == name:
            screen.table.cursor_row = index
            return
    raise AssertionError(name)


def status(screen: ConfigListScreen, name: str) -> str:
    return next((r.cells[-1] for r in screen.table.visible_rows if r.cells[0] == name), "")


async def test_enter_opens_details_y_copies_the_id_esc_returns_to_the_row(
        platform, world, provider) -> None:
    ids = await seed(platform.url, world.tokens["ADMIN"], world.workspace_id,
                     {"alpha": provider.endpoint("ok"), "beta": provider.endpoint("ok")})
    posted = []
    app = make_app(platform.url, world.tokens["ADMIN"], email=world.emails["ADMIN"])
    notes = toasts(app)
    async with app.run_test(size=SMALL, message_hook=posted.append) as pilot:
        screen = await open_list(app, pilot, 2)
        select(screen, "beta")
        await pilot.press("enter")
        detail = await wait_for(lambda: isinstance(app.screen, ConfigDetailScreen)
                                and app.screen, pilot)
        assert any(isinstance(m, ShowDetails) and m.llm.id == ids["beta"] for m in posted)
        await wait_for(lambda: {"usage", "models", "history"} <= set(detail.parts), pilot)
        text = screen_text(app)
        assert ids["beta"] in text and world.workspace_name in text
        assert "No usage recorded yet." in text
        assert "Not linked to a repository" in text  # no models asked for
        await pilot.press("y")
        assert app.clipboard == ids["beta"]
        await wait_for(lambda: shown(notes, "may not support it"), pilot)
        await pilot.press("escape")
        await wait_for(lambda: app.screen is screen, pilot)
        assert screen.table.cursor_key == ids["beta"]


async def test_v_shows_validating_then_a_toast_and_V_ends_with_a_summary(
        platform, world, provider) -> None:
    await seed(platform.url, world.tokens["ADMIN"], world.workspace_id,
               {"slow": provider.endpoint("slow", 800), "broken": provider.endpoint("status", 500),
                "good": provider.endpoint("ok")})
    posted = []
    app = make_app(platform.url, world.tokens["READ"], email=world.emails["READ"])
    notes = toasts(app)
    async with app.run_test(size=SMALL, message_hook=posted.append) as pilot:
        screen = await open_list(app, pilot, 3)
        select(screen, "slow")
        await pilot.press("v")
        await wait_for(lambda: status(screen, "slow") == "Validating…", pilot)
        await wait_for(lambda: status(screen, "slow") == "Valid", pilot)
        await wait_for(lambda: shown(notes, "slow: Valid"), pilot)
        await pilot.press("V")
        await wait_for(lambda: any(isinstance(m, ValidationsFinished) and m.total == 3
                                   for m in posted), pilot)
        finished = [m for m in posted if isinstance(m, ValidationsFinished)][-1]
        assert finished.summary.text == "2 valid, 1 invalid"
        await wait_for(lambda: shown(notes, "Validation finished: 2 valid, 1 invalid"), pilot)
        select(screen, "broken")
        await pilot.pause()
        assert "500" in str(screen.query_one("#detail").render())  # the full status


async def test_read_only_refusals_say_why_and_delete_answers_y(platform, world, provider) -> None:
    await seed(platform.url, world.tokens["ADMIN"], world.workspace_id,
               {"keep": provider.endpoint("ok")})
    app = make_app(platform.url, world.tokens["ADMIN"], email=world.emails["ADMIN"],
                   read_only=True)
    notes = toasts(app)
    async with app.run_test(size=SMALL) as pilot:
        screen = await open_list(app, pilot)
        await pilot.press("n")
        await wait_for(lambda: shown(notes, "New: not allowed: Read-only mode"), pilot)
        assert app.screen is screen
    app = make_app(platform.url, world.tokens["READ"], email=world.emails["READ"])
    notes = toasts(app)
    async with app.run_test(size=SMALL) as pilot:
        screen = await open_list(app, pilot)
        await pilot.press("d")
        await wait_for(lambda: shown(notes, "role in this workspace is READ"), pilot)
    app = make_app(platform.url, world.tokens["ADMIN"], email=world.emails["ADMIN"])
    async with app.run_test(size=SMALL) as pilot:
        screen = await open_list(app, pilot)
        await pilot.press("d")
        await wait_for(lambda: isinstance(app.screen, DeleteConfigDialog), pilot)
        await pilot.press("n")
        await wait_for(lambda: app.screen is screen, pilot)
        await pilot.press("d")
        await wait_for(lambda: isinstance(app.screen, DeleteConfigDialog), pilot)
        await pilot.press("y")
        await wait_for(lambda: app.screen is screen and screen.table.total_count == 0, pilot)


async def test_create_lands_on_the_new_row_and_the_list_refreshes_itself(
        platform, world, provider) -> None:
    await seed(platform.url, world.tokens["ADMIN"], world.workspace_id,
               {f"cfg {i}": provider.endpoint("ok") for i in range(4)})
    app = make_app(platform.url, world.tokens["ADMIN"], email=world.emails["ADMIN"],
                   refresh_interval=0.5)
    async with app.run_test(size=SMALL) as pilot:
        screen = await open_list(app, pilot, 4)
        await pilot.press("o")  # sorted by name
        await pilot.press("n")
        form = await wait_for(lambda: isinstance(app.screen, ConfigFormScreen) and app.screen,
                              pilot)
        form.query_one("#name").value = "aaa new"
        form.query_one("#ai_type").value = AiType.OTHER
        form.query_one("#endpoint").value = provider.endpoint("ok")
        form.query_one("#secret").value = GOOD_KEY
        await pilot.press("ctrl+s")
        await wait_for(lambda: app.screen is screen and screen.selected is not None
                       and screen.selected.name == "aaa new", pilot)
        select(screen, "cfg 2")
        # Someone else adds one: it appears on its own, cursor and sort kept.
        await seed(platform.url, world.tokens["WRITE"], world.workspace_id,
                   {"zzz elsewhere": provider.endpoint("ok")})
        await wait_for(lambda: screen.table.total_count == 6, pilot)
        assert screen.selected is not None and screen.selected.name == "cfg 2"
        assert [r.cells[0] for r in screen.table.visible_rows][-1] == "zzz elsewhere"
        await pilot.press("ctrl+c")
        await pilot.pause()
    assert app.return_code == 0


async def test_a_new_origin_asks_for_the_secret_again(platform, world, provider) -> None:
    await seed(platform.url, world.tokens["ADMIN"], world.workspace_id,
               {"moving": provider.endpoint("ok")})
    app = make_app(platform.url, world.tokens["WRITE"], email=world.emails["WRITE"])
    async with app.run_test(size=SMALL) as pilot:
        screen = await open_list(app, pilot)
        await pilot.press("e")
        form = await wait_for(lambda: isinstance(app.screen, ConfigFormScreen) and app.screen,
                              pilot)
        form.query_one("#endpoint").value = "http://127.0.0.1:9/v1"
        await pilot.pause()
        error = str(form.query_one("#secret-error").render())
        assert "type the secret again" in error and "only sent where it was given" in error
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is form and SECRET_AGAIN in str(form.query_one("#secret-error").render())
        form.query_one("#endpoint").value = provider.endpoint("ok")  # same origin again
        await pilot.pause()
        assert not form.query_one("#secret-error").display
        await pilot.press("ctrl+s")
        await wait_for(lambda: app.screen is screen, pilot)


async def test_unknown_settings_are_named_and_a_picked_theme_is_kept(
        platform, world, isolated_config) -> None:
    app = make_app(platform.url, world.tokens["ADMIN"], email=world.emails["ADMIN"],
                   theme="no-such-theme", keymap={"configs.nope": "x"})
    notes = toasts(app)
    async with app.run_test(size=SMALL) as pilot:
        await open_list(app, pilot, 0)
        await wait_for(lambda: shown(notes, "Unknown theme 'no-such-theme'")
                       and shown(notes, "'configs.nope'"), pilot)
        app.theme = "nord"
        await wait_for(lambda: load_settings().profiles.get("test") is not None
                       and load_settings().profiles["test"].theme == "nord", pilot)
