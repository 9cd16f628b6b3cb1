"""The configuration list against the real local server: filter, sort, available-only,
validation of many rows (with cancel), roles and read-only mode.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from flashback_tui.api.client import FlashbackClient
from flashback_tui.api.models import AiLlmCreate, AiType
from flashback_tui.tui.screens.config_detail import ConfigDetailScreen
from flashback_tui.tui.screens.config_form import ConfigFormScreen
from flashback_tui.tui.screens.config_list import ConfigListScreen
from tests.support.fake_provider import FakeProvider
from tests.tui.harness import SIZE, make_app, screen_text, wait_for

GOOD_KEY = "sk-good-0123456789abcdef"


@pytest.fixture(scope="module")
def provider() -> Iterator[FakeProvider]:
    with FakeProvider(valid_keys={GOOD_KEY}) as fake:
        yield fake


async def seed(url: str, token: str, workspace_id: str, configs: dict[str, str],
               validate: tuple[str, ...] = ()) -> dict[str, str]:
    """Create configurations (name -> endpoint) through the real client; name -> id."""
    ids = {}
    async with FlashbackClient(url, token=token) as client:
        for name, endpoint in configs.items():
            body = AiLlmCreate(name=name, ai_type=AiType.OTHER, endpoint=endpoint,
                               secret=SecretStr(GOOD_KEY), workspace_id=workspace_id)
            ids[name] = (await client.create_ai_llm(body)).ai_llm_id
        for name in validate:
            await client.validate_ai_llm(ids[name])
    return ids


async def open_list(app, pilot) -> ConfigListScreen:
    return await wait_for(
        lambda: isinstance(app.screen, ConfigListScreen) and app.screen.loaded
        and app.screen.table.total_count and app.screen, pilot)


def names(screen: ConfigListScreen) -> list[str]:
    return [row.cells[0] for row in screen.table.visible_rows]


def statuses(screen: ConfigListScreen) -> dict[str, str]:
    return {row.cells[0]: row.cells[-1] for row in screen.table.visible_rows}


async def test_filter_sort_and_available_only(platform, world, provider) -> None:
    ok = provider.endpoint("ok")
    await seed(platform.url, world.tokens["ADMIN"], world.workspace_id,
               {"alpha openai": ok, "beta": provider.endpoint("anykey"), "gamma": ok},
               validate=("gamma",))
    app = make_app(platform.url, world.tokens["ADMIN"], email=world.emails["ADMIN"])
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_list(app, pilot)
        assert sorted(names(screen)) == ["alpha openai", "beta", "gamma"]
        assert statuses(screen)["gamma"] == "Valid"
        assert statuses(screen)["beta"] == "Not validated"

        # `/` filters as you type over name, provider and endpoint.
        await pilot.press("slash", "g", "a", "m")
        assert names(screen) == ["gamma"]
        await pilot.press("backspace", "backspace", "backspace", *"anykey")
        assert names(screen) == ["beta"]  # matched by endpoint
        await pilot.press("enter")
        assert app.focused is screen.table and screen.table.cursor_key is not None
        await pilot.press("escape")
        assert len(names(screen)) == 3
        await pilot.press("slash", *"zzz")
        assert "No configuration matches" in screen_text(app)
        await pilot.press("escape")

        # Sort: `o` cycles the sort column (Name first), `O` reverses.
        await pilot.press("o")
        assert names(screen) == ["alpha openai", "beta", "gamma"]
        await pilot.press("O")
        assert names(screen) == ["gamma", "beta", "alpha openai"]

        # `a`: only what /ai/llm/available returns (validated and active).
        await pilot.press("a")
        await wait_for(lambda: screen.loaded and names(screen) == ["gamma"], pilot)
        assert "available only" in screen_text(app)
        await pilot.press("a")
        await wait_for(lambda: screen.loaded and len(names(screen)) == 3, pilot)


async def test_validate_one_all_and_cancel(platform, world, provider) -> None:
    configs = {f"slow {i}": provider.endpoint("slow", 1500) for i in range(6)}
    configs["good"] = provider.endpoint("ok")
    configs["broken"] = provider.endpoint("status", 500)
    await seed(platform.url, world.tokens["ADMIN"], world.workspace_id, configs)
    app = make_app(platform.url, world.tokens["READ"], email=world.emails["READ"],
                   validation_concurrency=2)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_list(app, pilot)
        # READ members may validate: `v` on one row.
        await pilot.press("slash", *"good", "enter", "v")
        await wait_for(lambda: statuses(screen).get("good") == "Valid", pilot)
        await pilot.press("escape")  # clears the filter
        await pilot.press("slash", *"broken", "enter", "v")
        await wait_for(lambda: statuses(screen).get("broken", "").startswith("Invalid"), pilot)
        assert "500" in statuses(screen)["broken"]
        await pilot.press("escape")

        # `V` validates every visible row with a progress bar; Esc cancels the rest.
        await pilot.press("V")
        await wait_for(lambda: screen.query_one("#validation").display, pilot)
        assert "Validating" in screen_text(app)
        assert any(s == "Validating…" for s in statuses(screen).values())
        await pilot.press("escape")
        await wait_for(lambda: not screen.query_one("#validation").display, pilot)
        assert not any(s == "Validating…" for s in statuses(screen).values())
        slow = [s for n, s in statuses(screen).items() if n.startswith("slow")]
        assert "Not validated" in slow  # the cancelled ones were never answered


async def test_read_member_sees_writes_hidden_and_refused(platform, world, provider) -> None:
    await seed(platform.url, world.tokens["ADMIN"], world.workspace_id,
               {"shared": provider.endpoint("ok")})
    app = make_app(platform.url, world.tokens["READ"], email=world.emails["READ"])
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_list(app, pilot)
        text = screen_text(app)
        assert "Role: READ" in text
        footer_actions = {b.binding.action for b in screen.active_bindings.values()
                          if b.enabled}
        assert not footer_actions & {"new", "edit", "delete", "rotate"}
        assert "validate" in footer_actions
        for key in ("n", "e", "d", "R"):
            await pilot.press(key)
            await pilot.pause()
            assert app.screen is screen, key
        assert " New " not in screen_text(app)
        await pilot.press("enter")  # Enter opens the details, which READ may see
        await wait_for(lambda: isinstance(app.screen, ConfigDetailScreen), pilot)


async def test_read_only_mode_hides_writes_for_an_admin(platform, world, provider) -> None:
    await seed(platform.url, world.tokens["ADMIN"], world.workspace_id,
               {"prod": provider.endpoint("ok")})
    app = make_app(platform.url, world.tokens["ADMIN"], email=world.emails["ADMIN"],
                   read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_list(app, pilot)
        assert "READ-ONLY" in screen_text(app)
        for key in ("n", "e", "d", "R"):
            await pilot.press(key)
            await pilot.pause()
            assert not isinstance(app.screen, ConfigFormScreen)
            assert app.screen is screen
        assert not app.check_action("new", ()) or not screen.check_action("new", ())
