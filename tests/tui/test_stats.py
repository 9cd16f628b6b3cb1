"""The stats dashboard against the real local platform: totals, table, rates, one request per
refresh, pause, the last-hour series, errors and recovery."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

import pytest
from rich.text import Text
from textual.widgets import DataTable, Sparkline, Static

from flashback_tui.api.client import FlashbackClient
from flashback_tui.api.models import AiLlmCreate, AiType
from flashback_tui.server import admin
from flashback_tui.server.runner import LocalServer
from flashback_tui.settings import Profile
from flashback_tui.tui.app import FlashbackApp
from flashback_tui.tui.screens.config_list import ConfigListScreen
from flashback_tui.tui.screens.stats import StatsScreen
from flashback_tui.tui.widgets.stat_tile import RateSparkline, StatTile
from tests.support.tui_session import (
    CountingTransport,
    open_dashboard,
    seed_usage,
    session_opener,
    wait_until,
)

STATS = "GET /ai/llm/stats"
LIST = "GET /ai/llm"


async def create_config(url: str, token: str, workspace_id: str, name: str) -> str:
    async with FlashbackClient(url, token=token) as client:
        answer = await client.create_ai_llm(AiLlmCreate(
            name=name, ai_type=AiType.OTHER, endpoint="http://127.0.0.1:9/v1",
            secret="sk-test-secret", workspace_id=workspace_id))
    return answer.ai_llm_id


def make_app(url: str, token: str, *, interval: float = 3600.0,
             transport: CountingTransport | None = None, **profile: object) -> FlashbackApp:
    chosen = Profile(name="test", url=url, refresh_interval=interval, **profile)
    return FlashbackApp(opener=session_opener(url, token, profile=chosen, transport=transport),
                        profile=chosen)


def tile(screen: StatsScreen, key: str) -> StatTile:
    return screen.query_one(f"#tile-{key}", StatTile)


def cell(screen: StatsScreen, row: str, column: str) -> Text:
    value = screen.query_one(DataTable).get_cell(row, column)
    assert isinstance(value, Text)
    return value


def static_text(screen: StatsScreen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


@pytest.fixture
def two_workspaces(platform, world):
    """World's ADMIN also belongs to a second workspace, with usage there that must not
    count on the first workspace's dashboard."""
    other = admin.add_workspace(platform.data_dir, f"other-{uuid.uuid4().hex[:8]}")
    admin.add_member(platform.data_dir, other, world.emails["ADMIN"], "ADMIN")
    return other


async def test_tiles_and_table_show_only_the_workspace_usage(platform, world, two_workspaces):
    token = world.tokens["ADMIN"]
    alpha = await create_config(platform.url, token, world.workspace_id, "alpha [prod]")
    beta = await create_config(platform.url, token, world.workspace_id, "beta")
    elsewhere = await create_config(platform.url, token, two_workspaces, "elsewhere")
    now_ms = int(time.time() * 1000)
    seed_usage(platform.data_dir, alpha, at_ms=now_ms - 120_000, latency_ms=3 * 40.0,
               api_calls=3, tokens_in=30, tokens_out=60, llm_tokens_in=25, llm_tokens_out=55,
               policy_violations=2, num_alerts=1)
    seed_usage(platform.data_dir, beta, at_ms=now_ms, latency_ms=4 * 80.0, api_calls=4,
               tokens_in=40, tokens_out=70, llm_tokens_in=35, llm_tokens_out=65,
               active_conversations=2)
    seed_usage(platform.data_dir, elsewhere, api_calls=1000, num_blocks=9)

    app = make_app(platform.url, token)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_dashboard(pilot, world.workspace_id, world.workspace_name)

        assert tile(screen, "calls").total == 7
        assert tile(screen, "tokens-in").total == 70
        assert tile(screen, "tokens-out").total == 130
        assert tile(screen, "llm-tokens-in").total == 60
        assert tile(screen, "llm-tokens-out").total == 120
        assert tile(screen, "violations").total == 2
        assert tile(screen, "alerts").total == 1
        assert tile(screen, "blocks").total == 0
        assert tile(screen, "violations").has_class("-alert")
        assert tile(screen, "alerts").has_class("-alert")
        assert not tile(screen, "blocks").has_class("-alert")
        assert not tile(screen, "calls").has_class("-alert")

        table = screen.query_one(DataTable)
        assert table.row_count == 2
        assert {key.value for key in table.rows} == {alpha, beta}
        assert cell(screen, alpha, "name").plain == "alpha [prod]"  # shown as text, not markup
        assert cell(screen, alpha, "calls").plain == "3"
        assert cell(screen, beta, "tokens-out").plain == "70"
        assert "bold" in str(cell(screen, alpha, "violations").style)
        assert "bold" not in str(cell(screen, beta, "violations").style)

        calls = screen.query_one("#series-calls", Sparkline)
        assert sum(calls.data or []) == 7
        # beta's calls are in the current minute (or the one before, if it just turned)
        assert 4 in (calls.data or [])[-2:]
        summary = static_text(screen, "#series-summary")
        assert "7 calls" in summary
        assert "latency 63 ms" in summary  # (3 x 40 + 4 x 80) / 7
        assert "latest minute: 80 ms, 2 conversations" in summary
        assert "2 configurations" in static_text(screen, "#stats-status")

        before = app.theme_variables["error"]
        assert before in str(cell(screen, alpha, "violations").style)
        app.theme = "nord"  # highlighted cells follow the theme's error colour
        await wait_until(pilot, lambda: app.theme_variables["error"] != before
                         and app.theme_variables["error"]
                         in str(cell(screen, alpha, "violations").style), what="nord colours")


async def test_one_stats_request_per_refresh_and_rates_between_refreshes(platform, world):
    token = world.tokens["READ"]
    admin_token = world.tokens["ADMIN"]
    ids = [await create_config(platform.url, admin_token, world.workspace_id, f"cfg-{i:02d}")
           for i in range(12)]
    transport = CountingTransport()
    names = f"workspaceId={world.workspace_id}"
    app = make_app(platform.url, token, interval=0.5, transport=transport)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_dashboard(pilot, world.workspace_id, world.workspace_name)
        names_before = transport.count(LIST, names) - 1  # the list below the dashboard
        table = screen.query_one(DataTable)
        assert table.row_count == 12
        table.move_cursor(row=5)
        seed_usage(platform.data_dir, ids[5], api_calls=6, tokens_in=600)
        await wait_until(pilot, lambda: tile(screen, "calls").total == 6, what="new usage")
        await wait_until(pilot, lambda: screen.refresh_count >= 4, what="four refreshes")
        await pilot.press("p")
        await wait_until(pilot, lambda: not screen.busy, what="the last refresh to land")

        assert transport.count(STATS) == screen.refresh_count
        assert transport.count(LIST, names) - names_before == 1  # the names, once at mount
        assert table.row_count == 12
        assert table.cursor_row == 5  # updated in place, never cleared and refilled
        assert cell(screen, ids[5], "calls").plain == "6"
        assert any(rate > 0 for rate in tile(screen, "calls").query_one(RateSparkline).values)
        assert "/min" in str(tile(screen, "calls").query_one(".stat-value", Static).render())

        before = screen.refresh_count
        await pilot.press("p", "r")
        await wait_until(pilot, lambda: screen.refresh_count > before, what="a reload")
        assert transport.count(LIST, names) - names_before == 2


async def test_empty_workspace_then_pause_and_resume(platform, world):
    transport = CountingTransport()
    app = make_app(platform.url, world.tokens["READ"], interval=0.5, transport=transport)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_dashboard(pilot, world.workspace_id, world.workspace_name)
        assert screen.has_class("-empty")
        assert not screen.query_one(DataTable).display
        assert "No configurations here yet" in static_text(screen, "#stats-empty")
        assert tile(screen, "calls").total == 0
        assert "no traffic" in static_text(screen, "#series-summary")

        await pilot.press("p")
        assert screen.paused
        assert "Paused" in static_text(screen, "#stats-status")
        await wait_until(pilot, lambda: not screen.busy, what="the last refresh to land")
        count = transport.count(STATS)
        await pilot.pause(1.3)
        assert transport.count(STATS) == count
        await pilot.press("p")
        assert "Live" in static_text(screen, "#stats-status")
        await wait_until(pilot, lambda: transport.count(STATS) > count, what="a refresh")


async def test_deleted_configuration_while_watching(platform, world):
    token = world.tokens["ADMIN"]
    keep = await create_config(platform.url, token, world.workspace_id, "keep")
    gone = await create_config(platform.url, token, world.workspace_id, "gone")
    seed_usage(platform.data_dir, keep, api_calls=2)
    transport = CountingTransport()
    app = make_app(platform.url, token, transport=transport)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_dashboard(pilot, world.workspace_id, world.workspace_name)
        async with FlashbackClient(platform.url, token=token) as client:
            await client.delete_ai_llm(gone)
        # The series query still names the deleted configuration: the platform answers 404,
        # the dashboard asks again without the names and keeps the series.
        series_before = transport.count("GET /aistats/minute")
        before = screen.refresh_count
        await pilot.press("p", "p")  # resuming refreshes at once, as a tick does
        await wait_until(pilot, lambda: screen.refresh_count > before, what="a refresh")
        assert transport.count("GET /aistats/minute", "aiLlmId=") == series_before + 1
        assert transport.count("GET /aistats/minute") == series_before + 2
        assert screen.series_available
        assert "cannot" not in static_text(screen, "#stats-status").lower()
        assert sum(screen.query_one("#series-calls", Sparkline).data or []) == 2
        await pilot.press("r")
        await wait_until(pilot, lambda: screen.query_one(DataTable).row_count == 1,
                         what="the row of the deleted configuration to go")
        assert "1 configuration" in static_text(screen, "#stats-status")


async def test_s_opens_the_dashboard_and_escape_goes_back(platform, world):
    token = world.tokens["ADMIN"]
    await create_config(platform.url, token, world.workspace_id, "only")
    app = make_app(platform.url, token, default_workspace=world.workspace_name)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, ConfigListScreen)
                         and app.screen.workspace_id == world.workspace_id
                         and app.screen.loaded, what="the configuration list")
        await pilot.press("s")
        await wait_until(pilot, lambda: isinstance(app.screen, StatsScreen), what="stats")
        assert app.screen.workspace_id == world.workspace_id
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfigListScreen), what="back")


async def test_unreachable_backend_shows_a_message_and_recovers(tmp_path: Path):
    server = LocalServer(tmp_path / "data")
    await asyncio.to_thread(server.start)
    try:
        token = server.admin_token.get_secret_value()
        app = make_app(server.url, token, interval=0.5)
        async with app.run_test(size=(100, 30)) as pilot:
            screen = await open_dashboard(pilot, None, "All workspaces")
            await asyncio.to_thread(server.stop)
            await wait_until(pilot, lambda: screen.has_class("-failing"), what="the error")
            message = static_text(screen, "#stats-error")
            assert "unreachable" in message.lower() or "reach" in message.lower()
            assert "Traceback" not in message
            failed_at = screen.refresh_count
            await asyncio.to_thread(server.start)
            await wait_until(pilot, lambda: not screen.has_class("-failing"), what="recovery")
            assert screen.refresh_count > failed_at
    finally:
        await asyncio.to_thread(server.stop)
