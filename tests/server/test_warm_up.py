"""The outbound HTTP stack is loaded in the background soon after start-up, not on first use."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from flashback_tui.server import app as app_module
from flashback_tui.server import upstream
from flashback_tui.server.app import create_app
from flashback_tui.server.config import ServerSettings


async def test_the_platform_warms_up_in_a_thread_soon_after_it_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    warmed = threading.Event()
    threads: list[str] = []

    def fake_warm_up() -> None:
        threads.append(threading.current_thread().name)
        warmed.set()

    monkeypatch.setattr(app_module, "WARM_UP_DELAY", 0.05)
    monkeypatch.setattr(app_module, "_warm_up", fake_warm_up)
    app = create_app(ServerSettings(data_dir=tmp_path / "data"))
    async with app.router.lifespan_context(app):
        assert not warmed.is_set()  # not during start-up itself
        assert await asyncio.to_thread(warmed.wait, 5)
    assert threads == ["warm-up"]  # off the event loop's thread


async def test_after_warming_up_the_first_probe_reuses_the_tls_context(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(upstream, "_ssl_context", None)
    upstream.warm_up()
    built = upstream._ssl_context
    assert built is not None
    upstream.warm_up()  # a second call changes nothing
    assert upstream._ssl_context is built
    assert await upstream.shared_ssl_context() is built
