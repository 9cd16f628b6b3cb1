"""App-wide behaviour: remapped keys, themes, the command palette, status rules, quitting."""

from __future__ import annotations

from textual.command import CommandPalette

from flashback_tui.api.models import AiType
from flashback_tui.domain.validation import ValidationOutcome
from flashback_tui.tui.config_rows import short_reason, status_of
from flashback_tui.tui.screens.config_form import ConfigFormScreen, field_of_message
from flashback_tui.tui.screens.config_list import ConfigListScreen
from tests.tui.fixed_data import CONFIGS, WORKSPACES, fixed_app, llm
from tests.tui.harness import SIZE, make_app, wait_for


async def test_keymap_from_the_profile_remaps_binding_ids(platform, world) -> None:
    app = make_app(platform.url, world.tokens["ADMIN"], email=world.emails["ADMIN"],
                   keymap={"configs.new": "f2"}, theme="nord")
    async with app.run_test(size=SIZE) as pilot:
        screen = await wait_for(lambda: isinstance(app.screen, ConfigListScreen)
                                and app.screen.loaded and app.screen, pilot)
        assert app.theme == "nord"
        await pilot.press("n")
        await pilot.pause()
        assert app.screen is screen
        await pilot.press("f2")
        await wait_for(lambda: isinstance(app.screen, ConfigFormScreen), pilot)


async def test_command_palette_offers_and_runs_screen_actions() -> None:
    app = fixed_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = ConfigListScreen(app.state, WORKSPACES[0].id, WORKSPACES[0].name)
        await app.push_screen(screen)
        screen.show_configs(list(CONFIGS))
        await pilot.pause()
        titles = {command.title for command in app.get_system_commands(screen)}
        assert {"New", "Edit", "Delete", "Rotate", "Validate", "Validate all",
                "Available only", "Refresh", "Filter", "Quit", "Workspaces"} <= titles
        await pilot.press("ctrl+p")
        await wait_for(lambda: isinstance(app.screen, CommandPalette), pilot)
        await pilot.press(*"available only")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(lambda: screen.available_only, pilot)


async def test_read_only_palette_has_no_write_actions() -> None:
    app = fixed_app(read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = ConfigListScreen(app.state, WORKSPACES[0].id, WORKSPACES[0].name)
        await app.push_screen(screen)
        screen.show_configs(list(CONFIGS))
        await pilot.pause()
        titles = {command.title for command in app.get_system_commands(screen)}
        assert not titles & {"New", "Edit", "Delete", "Rotate"}
        assert "Validate" in titles


async def test_q_quits_and_escape_goes_back() -> None:
    app = fixed_app()
    async with app.run_test(size=SIZE) as pilot:
        await app.push_screen(ConfigListScreen(app.state, WORKSPACES[0].id, WORKSPACES[0].name))
        await pilot.press("escape")
        assert len(app.screen_stack) == 1
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0


def test_status_rules_without_server_status_fall_back_to_availability() -> None:
    hosted = llm(9, "Hosted", AiType.OPENAI, "https://api.openai.com/v1")
    assert hosted.validation_status is None
    assert status_of(hosted, available={hosted.id}).label == "Valid"
    assert status_of(hosted, available=set()).label == "Unknown"  # the platform does not say
    assert status_of(hosted, validating=True).label == "Validating…"
    bad = ValidationOutcome(hosted.id, False, "Validation failed: provider answered 401")
    assert status_of(hosted, outcome=bad).label == "Invalid: provider answered 401"
    failed = ValidationOutcome(hosted.id, False, "not allowed", request_failed=True)
    assert status_of(hosted, outcome=failed).label == "Error: not allowed"
    assert status_of(CONFIGS[1]).label.startswith("Invalid: provider answered 401")
    assert short_reason("Validation failed:   a  b") == "a b"


def test_server_messages_map_to_form_fields() -> None:
    assert field_of_message("name: a configuration named X already exists") == "name"
    assert field_of_message("endpoint: required when aiType is OTHER") == "endpoint"
    assert field_of_message("aiType must be one of OPENAI, GOOGLE") == "ai_type"
    assert field_of_message("secret: must be at most 8192 characters") == "secret"
    assert field_of_message("workspaceId: unknown workspace") == "workspace"
    assert field_of_message("something odd happened") is None


async def test_refresh_updates_rows_in_place_and_keeps_the_cursor() -> None:
    app = fixed_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = ConfigListScreen(app.state, WORKSPACES[0].id, WORKSPACES[0].name)
        await app.push_screen(screen)
        screen.show_configs(list(CONFIGS))
        await pilot.press("down", "down")
        changed = [c.model_copy(update={"validation_status": "VALID"}) if c.id == "llm-0002"
                   else c for c in CONFIGS]
        screen.show_configs(changed)
        await pilot.pause()
        assert screen.table.get_row("llm-0002").cells[-1] == "Valid"
        assert screen.table.cursor_row == 2
        screen.show_configs(changed[:-1])  # a configuration disappeared: rebuilt
        assert screen.table.row_count == len(CONFIGS) - 1
