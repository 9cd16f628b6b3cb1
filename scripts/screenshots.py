"""Regenerate every screenshot in screenshots/ (``make screenshots``).

Builds a throw-away demo platform in a temporary data dir: three workspaces, configurations
of every provider type pointing at the loopback provider stand-in of the tests (so nothing
leaves this machine), one of them invalid, one validated, one used by a repository, and some
usage. Then it drives the real app, as ``flashback-tui --data-dir DIR`` runs it (embedded
server and all), through each screen and saves an SVG of each.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import sqlite3
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.support.fake_provider: the provider stand-in

from tests.support.fake_provider import (  # noqa: E402
    DEFAULT_AWS_CREDENTIALS,
    DEFAULT_VALID_KEY,
    FakeProvider,
)

OUT = ROOT / "screenshots"
SIZE = (80, 24)
WIDE = (120, 30)
AWS_KEY_ID, AWS_SECRET = next(iter(DEFAULT_AWS_CREDENTIALS.items()))


# ---------------------------------------------------------------------------------------------
# Demo data
# ---------------------------------------------------------------------------------------------


def seed(data_dir: Path, provider: FakeProvider) -> dict[str, str]:
    """Workspaces, configurations, a repository and usage; returns name -> configuration id."""
    from pydantic import SecretStr

    from flashback_tui.api.models import AiType
    from flashback_tui.server import admin
    from flashback_tui.server.state import PlatformState
    from flashback_tui.server.store import ai_llms as llm_store
    from flashback_tui.server.store import users as user_store
    from flashback_tui.server.store import workspaces as workspace_store

    good = DEFAULT_VALID_KEY
    demo = {
        "Default": [
            ("Production OpenAI", AiType.OPENAI, provider.endpoint("ok"), None, good),
            ("Staging OpenAI (old key)", AiType.OPENAI, provider.endpoint("ok"), None,
             "sk-revoked-0000"),
            ("Claude for support", AiType.ANTHROPIC, provider.endpoint("anthropic"), None,
             good),
            ("Gemini EU", AiType.GOOGLE, provider.endpoint("google", version="v1beta"), None,
             good),
            ("Bedrock us-east-1", AiType.AWS, provider.endpoint("bedrock"), AWS_KEY_ID,
             AWS_SECRET),
            ("On-prem vLLM", AiType.OTHER, provider.endpoint("slow", 1500), None, good),
            ("Ollama on the GPU box", AiType.OTHER, provider.endpoint("slow", 2500), None,
             good),
        ],
        "Research": [
            ("Research OpenAI", AiType.OPENAI, provider.endpoint("ok"), None, good),
            ("Local LM Studio", AiType.OTHER, provider.endpoint("anykey"), None, None),
        ],
        "Production": [
            ("Support bot (Claude)", AiType.ANTHROPIC, provider.endpoint("anthropic"), None,
             good),
        ],
    }
    ids: dict[str, str] = {}
    with PlatformState.open(data_dir) as state:
        conn = state.db.conn()
        admin_id = user_store.require_user(conn, "admin@localhost")["id"]
    admin.add_workspace(data_dir, "Research")
    admin.add_member(data_dir, "Research", "admin@localhost", "WRITE")
    admin.add_workspace(data_dir, "Production")
    admin.add_member(data_dir, "Production", "admin@localhost", "READ")
    with PlatformState.open(data_dir) as state:
        conn = state.db.conn()
        for workspace, configs in demo.items():
            workspace_id = workspace_store.find_workspace(conn, workspace)["id"]
            for name, ai_type, endpoint, key, secret in configs:
                ids[name] = llm_store.create_ai_llm(
                    conn, state.keyring, workspace_id=workspace_id, user_id=admin_id,
                    name=name, ai_type=ai_type, endpoint=endpoint,
                    key=SecretStr(key) if key else None,
                    secret=SecretStr(secret) if secret else None)
    admin.add_repo(data_dir, "docs-bot", "Default", ids["Production OpenAI"])
    try:
        record_usage(data_dir, ids, minutes=59)
    except sqlite3.OperationalError as exc:  # the usage store and the schema disagree
        print(f"  usage not seeded ({exc}); the dashboard shows zeros")
    return ids


def record_usage(data_dir: Path, ids: dict[str, str], minutes: int) -> None:
    """Traffic over the last ``minutes`` minutes, as the gateway records it."""
    from flashback_tui.server.state import PlatformState
    from flashback_tui.server.store import usage as usage_store

    now_ms = int(time.time() * 1000)
    with PlatformState.open(data_dir) as state:
        conn = state.db.conn()
        for minute in range(1, minutes + 1):
            at = now_ms - minute * 60_000
            calls = 480 + round(200 * math.sin(minute / 5)) + (minute * 37) % 60
            usage_store.record_usage(conn, ids["Production OpenAI"], at_ms=at,
                               latency_ms=calls * (420.0 + 7 * (minute % 6)), api_calls=calls,
                               tokens_in=calls * 160, tokens_out=calls * 410,
                               llm_tokens_in=calls * 151, llm_tokens_out=calls * 402,
                               active_conversations=calls // 3)
            if minute % 4 == 0:
                flagged = 1 if minute % 8 == 0 else 0
                usage_store.record_usage(conn, ids["Claude for support"], at_ms=at,
                                   latency_ms=5 * 910.0, api_calls=5, tokens_in=1700,
                                   tokens_out=3100, llm_tokens_in=1690, llm_tokens_out=3080,
                                   policy_violations=flagged, num_alerts=flagged,
                                   num_severity_medium=flagged)


def live_traffic(data_dir: Path, ids: dict[str, str], stop: threading.Event) -> None:
    """A few calls every fraction of a second, with a slow swell, until ``stop`` is set."""
    from flashback_tui.server.state import PlatformState
    from flashback_tui.server.store import usage as usage_store

    tick = 0
    with PlatformState.open(data_dir) as state, contextlib.suppress(sqlite3.OperationalError):
        conn = state.db.conn()
        while not stop.wait(0.25):
            tick += 1
            calls = 1 + round(1.5 + 1.5 * math.sin(tick / 3))
            usage_store.record_usage(conn, ids["Production OpenAI"], latency_ms=calls * 380.0,
                               api_calls=calls, tokens_in=calls * 160,
                               tokens_out=calls * 410, llm_tokens_in=calls * 151,
                               llm_tokens_out=calls * 402, active_conversations=1)
            if tick % 5 == 0:
                blocked = 1 if tick % 15 == 0 else 0
                usage_store.record_usage(conn, ids["On-prem vLLM"], latency_ms=95.0, api_calls=1,
                                   tokens_in=150, tokens_out=250 * (1 - blocked),
                                   llm_tokens_in=148, llm_tokens_out=248 * (1 - blocked),
                                   policy_violations=blocked, num_blocks=blocked,
                                   num_severity_high=blocked)


async def validate_some(data_dir: Path, ids: dict[str, str]) -> None:
    """Validate two configurations through the API: one valid, one with a revoked key."""
    from flashback_tui.api.client import FlashbackClient
    from flashback_tui.server.runner import LocalServer

    server = LocalServer(data_dir)
    await asyncio.to_thread(server.start)
    try:
        async with FlashbackClient(server.url, token=server.admin_token) as client:
            for name in ("Production OpenAI", "Staging OpenAI (old key)"):
                await client.validate_ai_llm(ids[name])
    finally:
        await asyncio.to_thread(server.stop)


# ---------------------------------------------------------------------------------------------
# Driving the app
# ---------------------------------------------------------------------------------------------


async def wait_until(pilot: Any, predicate: Callable[[], bool], what: str,
                     limit: float = 30.0) -> None:
    deadline = time.monotonic() + limit
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await pilot.pause(0.05)


def save(app: Any, name: str) -> None:
    app.save_screenshot(f"{name}.svg", str(OUT))
    print(f"  screenshots/{name}.svg")


def make_app(data_dir: Path, *, read_only: bool = False) -> Any:
    from flashback_tui.connect import open_session
    from flashback_tui.tui.app import FlashbackApp

    return FlashbackApp(opener=lambda: open_session(data_dir=data_dir), read_only=read_only)


async def open_default(pilot: Any) -> Any:
    """From the workspace picker, open workspace Default with the keys."""
    from flashback_tui.tui.screens.config_list import ConfigListScreen
    from flashback_tui.tui.screens.workspaces import WorkspacesScreen

    app = pilot.app
    await wait_until(pilot, lambda: isinstance(app.screen, WorkspacesScreen)
                     and app.screen.counts is not None, "the workspace picker")
    await pilot.press("slash", *"Default", "enter", "enter")
    await wait_until(pilot, lambda: isinstance(app.screen, ConfigListScreen)
                     and app.screen.loaded, "the configuration list")
    await pilot.pause(0.3)
    return app.screen


async def tour(data_dir: Path, ids: dict[str, str]) -> None:
    """Every screen, in the order a new user meets them."""
    from textual.widgets import Input

    from flashback_tui.tui.screens.config_detail import ConfigDetailScreen
    from flashback_tui.tui.screens.config_form import ConfigFormScreen
    from flashback_tui.tui.screens.config_list import ConfigListScreen
    from flashback_tui.tui.screens.delete_dialog import DeleteConfigDialog
    from flashback_tui.tui.screens.help import HelpScreen
    from flashback_tui.tui.screens.stats import StatsScreen

    app = make_app(data_dir)
    async with app.run_test(size=SIZE) as pilot:
        from flashback_tui.tui.screens.workspaces import WorkspacesScreen

        await wait_until(pilot, lambda: isinstance(app.screen, WorkspacesScreen)
                         and app.screen.counts is not None, "the workspace picker")
        await pilot.pause(0.3)
        save(app, "01-workspaces")

        listing = await open_default(pilot)
        save(app, "02-configurations")

        await pilot.press("slash", *"openai")
        await pilot.pause(0.5)
        save(app, "03-filter")
        await pilot.press("escape")
        await pilot.pause(0.2)
        if app.screen.focused is not listing.table:
            await pilot.press("escape")

        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfigFormScreen), "the form")
        form = app.screen
        form.query_one("#name", Input).value = "Azure OpenAI (EU)"
        form.query_one("#endpoint", Input).value = "openai.azure.example/v1"
        form.query_one("#endpoint", Input).focus()
        await pilot.pause(0.5)
        save(app, "04-create-form-error")
        await pilot.press("escape", "y")  # Esc asks before discarding what was typed
        await wait_until(pilot, lambda: isinstance(app.screen, ConfigListScreen), "the list")

        listing.table.move_cursor_to_key(ids["Production OpenAI"])
        await pilot.pause(0.2)
        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfigFormScreen), "the form")
        await pilot.pause(0.4)
        save(app, "05-edit-form")
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfigListScreen), "the list")

        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, DeleteConfigDialog), "dialog")
        await pilot.pause(0.4)
        save(app, "06-delete-dialog")
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfigListScreen), "the list")

        await pilot.press("V")
        await pilot.pause(0.9)
        save(app, "07-validation-in-progress")
        await wait_until(pilot, lambda: not any(r.cells[-1] == "Validating…"
                                                for r in listing.table.visible_rows),
                         "validation to finish")
        await pilot.pause(0.3)
        save(app, "08-validation-results")

        listing.table.move_cursor_to_key(ids["Production OpenAI"])
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfigDetailScreen)
                         and len(app.screen.parts) == 3, "the detail view")
        await pilot.pause(0.3)
        save(app, "12-details")
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfigListScreen), "the list")

        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen), "help")
        await pilot.pause(0.3)
        save(app, "10-help")
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfigListScreen), "the list")

        from scripts.screenshots_console import console_tour

        await console_tour(app, pilot, save, wait_until)

        stop = threading.Event()
        traffic = threading.Thread(target=live_traffic, args=(data_dir, ids, stop))
        traffic.start()
        try:
            await pilot.press("s")
            await wait_until(pilot, lambda: isinstance(app.screen, StatsScreen)
                             and app.screen.refresh_count >= 4, "a few refreshes")
        finally:
            stop.set()
            traffic.join()
        await pilot.pause(0.3)
        save(app, "09-stats-dashboard")

    app = make_app(data_dir, read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await open_default(pilot)
        save(app, "11-read-only")

    app = make_app(data_dir)
    async with app.run_test(size=WIDE) as pilot:
        await open_default(pilot)
        save(app, "13-configurations-wide")


def main() -> int:
    OUT.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="flashback-screenshots-") as tmp:
        config_dir = Path(tmp) / "config"
        config_dir.mkdir()
        (config_dir / "settings.toml").write_text(
            'default_profile = "local"\n')  # the default refresh interval
        os.environ["FLASHBACK_CONFIG_DIR"] = str(config_dir)
        os.environ.pop("FLASHBACK_PROFILE", None)
        os.environ.pop("FLASHBACK_URL", None)
        data_dir = Path(tmp) / "data"
        with FakeProvider(valid_keys={DEFAULT_VALID_KEY}) as provider:
            print("seeding a demo platform…")
            ids = seed(data_dir, provider)
            asyncio.run(validate_some(data_dir, ids))
            print("driving the app:")
            asyncio.run(tour(data_dir, ids))
    return 0


if __name__ == "__main__":
    sys.exit(main())
