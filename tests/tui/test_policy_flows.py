"""Policies through the real TUI at 80x24: a block policy written and scored in the editor
refuses a matching prompt at the gateway; the policy's own violations list finds it."""

from __future__ import annotations

from collections.abc import Iterator

import openai
import pytest
from textual.widgets import Select, TextArea

from flashback_tui.tui.screens.config_list import ConfigListScreen
from flashback_tui.tui.screens.confirm import ConfirmDialog
from flashback_tui.tui.screens.policies import PolicyListScreen
from flashback_tui.tui.screens.policy_form import PolicyFormScreen
from flashback_tui.tui.screens.violations import ViolationListScreen
from tests.gateway.helpers import make_linked
from tests.support.fake_provider import DEFAULT_VALID_KEY, FakeProvider
from tests.tui.harness import make_app, screen_text, wait_for
from tests.tui.test_console import shown, toasts

SIZE = (80, 24)


@pytest.fixture(scope="module")
def provider() -> Iterator[FakeProvider]:
    with FakeProvider(valid_keys={DEFAULT_VALID_KEY}) as fake:
        yield fake


def rows(screen) -> list[tuple[str, ...]]:
    return [row.cells for row in screen.table.visible_rows]


async def test_a_block_policy_made_here_blocks_and_lists_its_violation(
        platform, world, provider) -> None:
    linked = make_linked(platform, world, provider.endpoint("ok"))
    app = make_app(platform.url, world.tokens["WRITE"], email=world.emails["WRITE"])
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: isinstance(app.screen, ConfigListScreen) and app.screen.loaded,
                       pilot)
        await pilot.press("p")
        policies = await wait_for(lambda: isinstance(app.screen, PolicyListScreen)
                                  and app.screen.loaded and app.screen, pilot)
        assert "No policies" in screen_text(app)
        await pilot.press("n")
        form = await wait_for(lambda: isinstance(app.screen, PolicyFormScreen) and app.screen,
                              pilot)
        await pilot.press(*"no secrets")
        form.query_one("#action", Select).value = 2
        form.query_one("#risk", Select).value = "HIGH"
        form.query_one("#content", TextArea).focus()
        await pilot.press(*"password")
        await pilot.press("ctrl+t")
        await wait_for(lambda: "Score" in screen_text(app), pilot)
        await pilot.press("ctrl+s")
        await wait_for(lambda: app.screen is policies and rows(policies), pilot)
        (row,) = rows(policies)
        assert row[:4] == ("no secrets", f"workspace {world.workspace_name}", "HIGH", "block")

        client = openai.OpenAI(base_url=linked.base_url, api_key=linked.secret, max_retries=0)
        with pytest.raises(openai.APIStatusError) as refused:
            client.chat.completions.create(
                model="m", messages=[{"role": "user", "content": "the password is x"}])
        assert "no secrets" in str(refused.value)

        await pilot.press("x")
        listed = await wait_for(lambda: isinstance(app.screen, ViolationListScreen)
                                and app.screen.loaded and app.screen.items and app.screen, pilot)
        assert [r[1] for r in rows(listed)] == ["no secrets"]
        await wait_for(lambda: "policy no secrets" in screen_text(app), pilot)  # by name
        assert listed.filters.policy_id not in screen_text(app)
        await pilot.press("escape")
        await wait_for(lambda: app.screen is policies, pilot)
        await pilot.press("d")
        await wait_for(lambda: isinstance(app.screen, ConfirmDialog), pilot)
        await pilot.press("y")
        await wait_for(lambda: policies.table.total_count == 0, pilot)


async def test_read_members_see_policy_writes_refused(platform, world) -> None:
    app = make_app(platform.url, world.tokens["READ"], email=world.emails["READ"])
    notes = toasts(app)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: isinstance(app.screen, ConfigListScreen) and app.screen.loaded,
                       pilot)
        await pilot.press("p")
        await wait_for(lambda: isinstance(app.screen, PolicyListScreen) and app.screen.loaded,
                       pilot)
        await pilot.press("n")
        await wait_for(lambda: shown(notes, "New: not allowed: Your role"), pilot)
        assert isinstance(app.screen, PolicyListScreen)


async def test_recommended_policies_are_added_as_new_ones(platform, world) -> None:
    from textual.widgets import SelectionList

    from flashback_tui.tui.screens.policy_recommend import RecommendDialog

    app = make_app(platform.url, world.tokens["WRITE"], email=world.emails["WRITE"])
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: isinstance(app.screen, ConfigListScreen) and app.screen.loaded,
                       pilot)
        await pilot.press("p")
        policies = await wait_for(lambda: isinstance(app.screen, PolicyListScreen)
                                  and app.screen.loaded and app.screen, pilot)
        await pilot.press("R")
        dialog = await wait_for(lambda: isinstance(app.screen, RecommendDialog)
                                and app.screen, pilot)
        dialog.query_one("#prompt").insert_text_at_cursor("support bot with card payments")
        await pilot.press("enter")
        picker = dialog.query_one("#suggestions", SelectionList)
        await wait_for(lambda: picker.option_count > 0, pilot)
        assert "Space ticks" in screen_text(app)
        await pilot.press("space", "ctrl+s")
        await wait_for(lambda: app.screen is policies and policies.table.total_count == 1,
                       pilot)
        assert rows(policies)[0][1] == f"workspace {world.workspace_name}"
