"""Start the TUI: resolve the profile, build the App, run it. Imports textual, never the server.

The embedded platform runs as a child process (``LocalServer``) started by
``connect.open_session`` inside a worker, so the first frame never waits for it.
"""

from __future__ import annotations

import sys
from typing import Any


def launch(
    *,
    data_dir: str | None = None,
    url: str | None = None,
    profile: str | None = None,
    read_only: bool = False,
    **_: Any,
) -> None:
    """Open the TUI on a profile, a URL, or the embedded local platform."""
    from flashback_tui.connect import open_session, resolve_profile
    from flashback_tui.settings import SettingsError

    try:
        chosen = resolve_profile(profile, url)
    except SettingsError as exc:
        print(f"flashback-tui: {exc}", file=sys.stderr)
        raise SystemExit(2) from None

    from flashback_tui.tui.app import FlashbackApp

    def opener() -> Any:
        return open_session(profile=chosen, data_dir=data_dir)

    app = FlashbackApp(opener=opener, profile=chosen, read_only=read_only)
    app.run()
