"""SVG snapshots of the stats dashboard and the help dialog (pytest-textual-snapshot).

A platform of their own with fixed names and usage at fixed minutes, and the dashboard's
clock pinned, so nothing in the pictures changes between runs (no ports, ids or times).
Update them with ``pytest tests/tui/test_stats_snapshots.py --snapshot-update``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import SecretStr

from flashback_tui.api.models import AiType
from flashback_tui.server.runner import LocalServer
from flashback_tui.server.state import PlatformState
from flashback_tui.server.store import ai_llms as llm_store
from flashback_tui.server.store import usage as usage_store
from flashback_tui.server.store import workspaces as workspace_store
from flashback_tui.settings import Profile
from flashback_tui.tui.app import FlashbackApp
from flashback_tui.tui.screens import stats as stats_module
from flashback_tui.tui.screens.config_list import ConfigListScreen
from flashback_tui.tui.screens.help import HelpScreen
from flashback_tui.tui.screens.stats import StatsScreen
from tests.support.tui_session import session_opener, wait_until

FIXED_NOW = datetime(2026, 1, 15, 10, 30, 12, tzinfo=UTC)
MINUTE_MS = 60_000

CONFIGS = (
    ("Production OpenAI", AiType.OPENAI, None),
    ("Claude for support", AiType.ANTHROPIC, None),
    ("Gemini [eu]", AiType.GOOGLE, None),
    ("Bedrock us-east-1", AiType.AWS, None),
    ("On-prem vLLM", AiType.OTHER, "http://10.0.0.5:8000/v1"),
)


def seed(data_dir: Path) -> str:
    """Five configurations with usage spread over the last hour; returns the workspace id."""
    now_ms = int(FIXED_NOW.timestamp() * 1000)
    with PlatformState.open(data_dir) as state:
        conn = state.db.conn()
        workspace_id = workspace_store.find_workspace(conn, "Default")["id"]
        ids = [
            llm_store.create_ai_llm(conn, state.keyring, workspace_id=workspace_id, user_id=None,
                                name=name, ai_type=ai_type, endpoint=endpoint,
                                secret=SecretStr("sk-snapshot-secret"))
            for name, ai_type, endpoint in CONFIGS
        ]
        for minute in range(0, 60, 3):
            calls = 2 + (minute * 7) % 11
            usage_store.record_usage(conn, ids[0], at_ms=now_ms - minute * MINUTE_MS,
                               latency_ms=calls * (300.0 + minute), api_calls=calls,
                               tokens_in=calls * 120, tokens_out=calls * 340,
                               llm_tokens_in=calls * 118, llm_tokens_out=calls * 337)
        usage_store.record_usage(conn, ids[1], at_ms=now_ms - 5 * MINUTE_MS, latency_ms=4 * 650.0,
                           api_calls=4, tokens_in=800, tokens_out=1600, llm_tokens_in=790,
                           llm_tokens_out=1590, policy_violations=3, num_alerts=2,
                           num_blocks=1)
        usage_store.record_usage(conn, ids[4], at_ms=now_ms - 2 * MINUTE_MS, latency_ms=9 * 90.0,
                           api_calls=9, tokens_in=900, tokens_out=450, llm_tokens_in=880,
                           llm_tokens_out=440)
    return workspace_id


@pytest.fixture(scope="module")
def snapshot_platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalServer,
                                                                                     str]]:
    data_dir = tmp_path_factory.mktemp("snapshots")
    workspace_id = seed(data_dir)
    server = LocalServer(data_dir)
    server.start()
    try:
        yield server, workspace_id
    finally:
        server.stop()


@pytest.fixture
def pinned_clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(stats_module, "now_utc", lambda: FIXED_NOW)
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def make_app(server: LocalServer) -> FlashbackApp:
    profile = Profile(name="local", refresh_interval=3600)
    opener = session_opener(server.url, server.admin_token.get_secret_value(), profile=profile,
                            local_server=server)
    return FlashbackApp(opener=opener, profile=profile)


async def show_dashboard(pilot, workspace_id: str) -> None:
    app = pilot.app
    await wait_until(pilot, lambda: isinstance(app.screen, ConfigListScreen)
                     and app.screen.loaded, what="the configuration list")
    app.open_stats(workspace_id, "Default")
    await wait_until(pilot, lambda: isinstance(app.screen, StatsScreen)
                     and app.screen.refresh_count >= 1, what="the dashboard")


def test_stats_dashboard(snap_compare, snapshot_platform, pinned_clock) -> None:
    """Totals, highlighted violations/alerts/blocks, the last hour and the table at 80x24."""
    server, workspace_id = snapshot_platform

    async def run_before(pilot) -> None:
        await show_dashboard(pilot, workspace_id)

    assert snap_compare(make_app(server), run_before=run_before, terminal_size=(80, 24))


def test_stats_dashboard_paused_wide(snap_compare, snapshot_platform, pinned_clock) -> None:
    """Paused, on a wide terminal: every table column visible."""
    server, workspace_id = snapshot_platform

    async def run_before(pilot) -> None:
        await show_dashboard(pilot, workspace_id)
        await pilot.press("p")

    assert snap_compare(make_app(server), run_before=run_before, terminal_size=(120, 30))


def test_help_over_the_dashboard(snap_compare, snapshot_platform, pinned_clock) -> None:
    """The help dialog lists the dashboard's keys and the app's, with binding ids."""
    server, workspace_id = snapshot_platform

    async def run_before(pilot) -> None:
        await show_dashboard(pilot, workspace_id)
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, HelpScreen), what="help")

    assert snap_compare(make_app(server), run_before=run_before, terminal_size=(80, 24))
