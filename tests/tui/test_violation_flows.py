"""Violations through the real TUI at 80x24: a block policy matches a prompt sent through the
gateway with the ``openai`` SDK, and the violation is found from the dashboard's tiles."""

from __future__ import annotations

from collections.abc import Iterator

import openai
import pytest
from textual.widgets import Input, OptionList, Select

from flashback_tui.tui.messages import OpenViolations
from flashback_tui.tui.screens.config_list import ConfigListScreen
from flashback_tui.tui.screens.stats import StatsScreen
from flashback_tui.tui.screens.violation_filters import (
    ViolationDetailDialog,
    ViolationFiltersDialog,
)
from flashback_tui.tui.screens.violations import PageLoaded, ViolationListScreen
from tests.gateway.helpers import make_linked, org_of
from tests.gateway.test_policies import add_policy
from tests.support.fake_provider import DEFAULT_VALID_KEY, FakeProvider
from tests.tui.harness import make_app, screen_lines, screen_text, wait_for

SIZE = (80, 24)


@pytest.fixture(scope="module")
def provider() -> Iterator[FakeProvider]:
    with FakeProvider(valid_keys={DEFAULT_VALID_KEY}) as fake:
        yield fake


@pytest.fixture
def blocked(platform, world, provider):
    """A linked repository with a block and a log policy; one prompt blocked, one logged."""
    linked = make_linked(platform, world, provider.endpoint("ok"))
    org = org_of(platform, world.workspace_id)
    add_policy(linked.api, org, "no secrets", "password", "HIGH", 2,
               workspaceId=world.workspace_id)
    add_policy(linked.api, org, "mind names", "alice", "LOW", 0,
               workspaceId=world.workspace_id)
    client = openai.OpenAI(base_url=linked.base_url, api_key=linked.secret, max_retries=0)
    with pytest.raises(openai.APIStatusError):
        client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "my password is hunter2"}])
    client.chat.completions.create(model="m", messages=[{"role": "user", "content": "alice"}])
    return linked


def policies_shown(screen: ViolationListScreen) -> list[str]:
    return [row.cells[1] for row in screen.table.visible_rows]


async def test_the_block_tile_opens_the_blocked_violation(platform, world, blocked) -> None:
    posted: list = []
    app = make_app(platform.url, world.tokens["WRITE"], email=world.emails["WRITE"])
    async with app.run_test(size=SIZE, message_hook=posted.append) as pilot:
        await wait_for(lambda: isinstance(app.screen, ConfigListScreen) and app.screen.loaded,
                       pilot)
        await pilot.press("s")
        stats = await wait_for(lambda: isinstance(app.screen, StatsScreen) and app.screen,
                               pilot)
        await wait_for(lambda: stats.query_one("#tile-blocks").total == 1, pilot)
        await wait_for(lambda: "low 1 · medium 0 · high 1" in screen_text(app), pilot)
        assert "Calls by model: m 2" in screen_text(app)  # the blocked call counts too
        await pilot.click("#tile-blocks")
        listed = await wait_for(lambda: isinstance(app.screen, ViolationListScreen)
                                and app.screen.loaded and app.screen, pilot)
        assert any(isinstance(m, OpenViolations) and m.blocked_only for m in posted)
        assert policies_shown(listed) == ["no secrets"]
        text = screen_text(app)
        assert "1-1 of 1 violations" in text and "blocked only" in text and "HIGH" in text
        assert "hunter2" not in text
        await pilot.press("enter")
        await wait_for(lambda: isinstance(app.screen, ViolationDetailDialog), pilot)
        text = screen_text(app)
        assert "docs-bot" in text and "password" in text and "hunter2" not in text
        await pilot.press("escape", "escape")
        await wait_for(lambda: app.screen is stats, pilot)
        await pilot.press("x")
        listed = await wait_for(lambda: isinstance(app.screen, ViolationListScreen)
                                and app.screen.loaded and app.screen, pilot)
        assert policies_shown(listed) == ["mind names", "no secrets"]  # newest first
        await pilot.press("t")
        await wait_for(lambda: listed.loaded and "alerts" in screen_text(app), pilot)
        assert policies_shown(listed) == ["no secrets"]  # a log policy raises no alert


async def test_filters_narrow_the_list_and_say_so(platform, world, blocked) -> None:
    app = make_app(platform.url, world.tokens["READ"], email=world.emails["READ"])
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: isinstance(app.screen, ConfigListScreen) and app.screen.loaded,
                       pilot)
        await pilot.press("x")
        listed = await wait_for(lambda: isinstance(app.screen, ViolationListScreen)
                                and app.screen.loaded and app.screen, pilot)
        assert len(policies_shown(listed)) == 2
        await pilot.press("f")
        await wait_for(lambda: isinstance(app.screen, ViolationFiltersDialog), pilot)
        await pilot.press(*"low", "ctrl+s")
        await wait_for(lambda: app.screen is listed and policies_shown(listed) == ["mind names"],
                       pilot)
        assert "severity LOW" in screen_text(app)
        await pilot.press("f")
        await wait_for(lambda: isinstance(app.screen, ViolationFiltersDialog), pilot)
        await pilot.press("ctrl+r")
        await wait_for(lambda: len(policies_shown(listed)) == 2, pilot)


def words(text: str) -> str:
    """``text`` with every run of spaces as one space (a label and its field: one space)."""
    return " ".join(text.split())


async def open_filters(app, pilot) -> tuple[ViolationListScreen, ViolationFiltersDialog]:
    """The workspace's violation list (both rows shown), then its filters, choices loaded."""
    await wait_for(lambda: isinstance(app.screen, ConfigListScreen) and app.screen.loaded,
                   pilot)
    await pilot.press("x")
    listed = await wait_for(lambda: isinstance(app.screen, ViolationListScreen)
                            and app.screen.loaded and len(policies_shown(app.screen)) == 2
                            and app.screen, pilot)
    await pilot.press("f")
    dialog = await wait_for(lambda: isinstance(app.screen, ViolationFiltersDialog)
                            and app.screen.choices is not None and app.screen, pilot)
    return listed, dialog


async def open_select(dialog: ViolationFiltersDialog, selector: str, pilot) -> Select:
    """Focus the pick list ``selector`` and open it with Enter, as a person does."""
    select = dialog.query_one(selector, Select)
    select.focus()
    await wait_for(lambda: select.has_focus, pilot)
    await pilot.press("enter")
    await wait_for(lambda: select.expanded, pilot)
    return select


def offered(select: Select) -> list[str]:
    """The prompts of an open pick list's options."""
    overlay = select.query_one(OptionList)
    return [str(overlay.get_option_at_index(i).prompt) for i in range(overlay.option_count)]


def highlighted(select: Select) -> str | None:
    """The prompt of the option an open pick list highlights."""
    overlay = select.query_one(OptionList)
    index = overlay.highlighted
    return None if index is None else str(overlay.get_option_at_index(index).prompt)


async def test_a_policy_picked_by_name_narrows_the_list_and_is_named(
        platform, world, blocked) -> None:
    app = make_app(platform.url, world.tokens["READ"], email=world.emails["READ"])
    async with app.run_test(size=SIZE) as pilot:
        listed, dialog = await open_filters(app, pilot)
        text = screen_text(app)
        assert "repository id" not in text and "policy id" not in text
        repos = await open_select(dialog, "#f-repo_id", pilot)
        assert "docs-bot" in offered(repos)  # offered by name
        await pilot.press("escape")
        policies = await open_select(dialog, "#f-policy_id", pilot)
        # One letter: the type-ahead forgets what was typed after 0.7 s of wall time, which a
        # busy machine can put between two key presses.
        await pilot.press("m")
        await wait_for(lambda: highlighted(policies) == "mind names", pilot)
        await pilot.press("enter")
        await wait_for(lambda: not policies.expanded and policies.selection, pilot)
        await pilot.press("ctrl+s")
        await wait_for(lambda: app.screen is listed and policies_shown(listed) == ["mind names"],
                       pilot)
        assert "1-1 of 1 violations" in screen_text(app)
        assert "policy mind names" in screen_text(app)
        await pilot.press("f")  # the choice is still made when the dialog opens again
        again = await wait_for(lambda: isinstance(app.screen, ViolationFiltersDialog)
                               and app.screen, pilot)
        await wait_for(lambda: "Policy mind names" in words(screen_lines(app)), pilot)
        assert again.query_one("#f-policy_id", Select).selection


@pytest.mark.parametrize(("field", "typed", "error"), [
    ("from_", "yesterday", "From must be a date such as 2026-01-31 or a time such as"),
    ("severity", "high, critical", "Severity must be LOW, MEDIUM or HIGH (several with"),
    ("to", "2026-01-31", "From must not be after To."),
])
async def test_bad_filters_are_refused_in_the_dialog(platform, world, blocked, field, typed,
                                                     error) -> None:
    posted: list = []
    app = make_app(platform.url, world.tokens["READ"], email=world.emails["READ"],
                   refresh_interval=3600)
    async with app.run_test(size=SIZE, message_hook=posted.append) as pilot:
        listed, dialog = await open_filters(app, pilot)
        if field == "to":
            dialog.query_one("#f-from_", Input).focus()
            await pilot.press(*"2026-02-01T08:00:00+01:00")
        dialog.query_one(f"#f-{field}", Input).focus()
        await pilot.press(*typed)
        pages = sum(isinstance(m, PageLoaded) for m in posted)
        await pilot.press("ctrl+s")
        await wait_for(lambda: error in words(screen_lines(app)), pilot)
        await pilot.pause(0.2)
        assert app.screen is dialog
        assert dialog.query_one(f"#f-{field}", Input).value == typed
        assert sum(isinstance(m, PageLoaded) for m in posted) == pages  # nothing loaded
        await pilot.press("escape")
        await wait_for(lambda: app.screen is listed, pilot)
        assert len(policies_shown(listed)) == 2


async def test_a_policy_without_violations_is_named_in_force(platform, world, blocked) -> None:
    org = org_of(platform, world.workspace_id)
    quiet = add_policy(blocked.api, org, "quiet one", "zebra", "LOW", 0,
                       workspaceId=world.workspace_id)
    app = make_app(platform.url, world.tokens["READ"], email=world.emails["READ"])
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: isinstance(app.screen, ConfigListScreen) and app.screen.loaded,
                       pilot)
        app.post_message(OpenViolations(world.workspace_id, world.workspace_name,
                                        policy_id=quiet))
        await wait_for(lambda: isinstance(app.screen, ViolationListScreen)
                       and app.screen.loaded, pilot)
        await wait_for(lambda: "No violations with policy quiet one." in screen_text(app),
                       pilot)
        assert quiet not in screen_text(app)
        assert "0 violations · page 1/1 · policy quiet one" in screen_text(app)
