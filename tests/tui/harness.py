"""Helpers to run the real TUI against the real local platform in tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from flashback_tui.api.client import FlashbackClient
from flashback_tui.connect import Session
from flashback_tui.settings import Profile
from flashback_tui.tui.app import FlashbackApp

SIZE = (100, 30)


def make_app(url: str, token: str, *, email: str | None = None, read_only: bool = False,
             **profile: Any) -> FlashbackApp:
    """A FlashbackApp whose session is a real client on ``url`` with ``token``."""
    chosen = Profile(name="test", url=url, email=email, **profile)

    @asynccontextmanager
    async def opener(**_: Any) -> AsyncIterator[Session]:
        async with FlashbackClient(url, token=token, timeout=5.0) as client:
            yield Session(client=client, profile=chosen, url=url, credential_source="test")

    return FlashbackApp(opener=opener, profile=chosen, read_only=read_only)


async def wait_for(condition: Callable[[], Any], pilot: Any, within: float = 20.0) -> Any:
    """Poll ``condition`` (letting the app run) until it is truthy; fail after ``within`` s."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        value = condition()
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(
                f"condition not met within {within} s; screen:\n{screen_lines(pilot.app)}"
            )
        await pilot.pause(0.05)


def screen_text(app: FlashbackApp) -> str:
    """Everything on screen as plain text (from an SVG export, tags stripped)."""
    import html
    import re

    svg = app.export_screenshot()
    return html.unescape(re.sub(r"<[^>]+>", "", svg)).replace("\xa0", " ")


def screen_lines(app: FlashbackApp) -> str:
    """The current screen as plain text lines (for failure messages)."""
    from rich.console import Console

    console = Console(width=app.size.width, record=True, file=None, color_system=None)
    console.print(app.screen._compositor.render_update(full=True))
    return console.export_text()
