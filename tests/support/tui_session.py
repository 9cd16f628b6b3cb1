"""Helpers for driving the real TUI against the real local platform in tests.

``session_opener`` gives :class:`flashback_tui.tui.app.FlashbackApp` a session on an already
running server (a token of any user), with a :class:`CountingTransport` that records every
request path so tests can count calls. ``seed_usage`` writes usage counters straight into a
data dir the way the gateway records them. ``wait_until`` polls the app without sleeping
longer than needed. ``strict_wire_platform`` runs a platform that answers only what the hosted
one sends.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import httpx

from flashback_tui.api.client import FlashbackClient
from flashback_tui.connect import Session
from flashback_tui.server.runner import LocalServer
from flashback_tui.server.state import PlatformState
from flashback_tui.server.store import usage as usage_store
from flashback_tui.settings import Profile


class CountingTransport(httpx.AsyncHTTPTransport):
    """The normal transport, recording ``METHOD path`` and the query of every request."""

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[tuple[str, str]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        query = request.url.query.decode()
        self.requests.append((f"{request.method} {request.url.path}", query))
        return await super().handle_async_request(request)

    def count(self, method_and_path: str, query_contains: str = "") -> int:
        """How many requests were ``METHOD path`` with ``query_contains`` in their query."""
        return sum(1 for what, query in self.requests
                   if what == method_and_path and query_contains in query)


def session_opener(
    url: str,
    token: str,
    *,
    profile: Profile | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    local_server: LocalServer | None = None,
) -> Callable[[], AbstractAsyncContextManager[Session]]:
    """An opener for ``FlashbackApp(opener=...)``: a client on ``url`` signed in with ``token``.

    With ``local_server`` the session looks embedded (backend label ``local (embedded)``,
    signed in as admin@localhost), which keeps ports out of screenshots.
    """
    chosen = profile or Profile(name="test", url=None if local_server else url)

    @asynccontextmanager
    async def opener() -> AsyncIterator[Session]:
        async with FlashbackClient(url, token=token, transport=transport) as client:
            yield Session(client=client, profile=chosen, url=url,
                          credential_source="test", local_server=local_server)

    return opener


def seed_usage(data_dir: Path, ai_llm_id: str, *, at_ms: int | None = None,
               latency_ms: float = 0.0, **counters: int) -> None:
    """Record usage of a configuration directly in the data dir, as the gateway does."""
    with PlatformState.open(data_dir) as state:
        usage_store.record_usage(state.db.conn(), ai_llm_id, at_ms=at_ms, latency_ms=latency_ms,
                           **counters)


async def wait_until(pilot: Any, predicate: Callable[[], bool], limit: float = 15.0,
                     what: str = "condition") -> None:
    """Let the app run until ``predicate()`` is true; fail after ``limit`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.02)


async def open_dashboard(pilot: Any, workspace_id: str | None, name: str) -> Any:
    """Wait for the session (and for the list a one-workspace user is taken to), open the
    stats dashboard the way ``s`` does, and wait for its first refresh."""
    from flashback_tui.tui.screens.config_list import ConfigListScreen
    from flashback_tui.tui.screens.stats import StatsScreen

    app = pilot.app
    await wait_until(pilot, lambda: app.client is not None and bool(app.workspaces),
                     what="the session")
    if len(app.workspaces) == 1:
        await wait_until(pilot, lambda: isinstance(app.screen, ConfigListScreen)
                         and app.screen.loaded, what="the configuration list")
    app.open_stats(workspace_id, name)
    await wait_until(pilot, lambda: isinstance(app.screen, StatsScreen), what="the dashboard")
    screen = app.screen
    await wait_until(pilot, lambda: screen.refresh_count >= 1, what="the first refresh")
    return screen



@contextmanager
def strict_wire_platform(data_dir: Path) -> Iterator[LocalServer]:
    """The local platform in strict-wire mode: answers carry only what the hosted one sends.

    ``FLASHBACK_STRICT_WIRE=1`` drops the local-only fields (``validationStatus``,
    ``validationMessage``, ``validatedAt``), so what works here works on the hosted platform.
    """
    server = LocalServer(data_dir, env={"FLASHBACK_STRICT_WIRE": "1",
                                        "FLASHBACK_PROBE_TIMEOUT": "2"})
    server.start()
    try:
        yield server
    finally:
        server.stop()
