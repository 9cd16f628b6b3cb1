"""Start the TUI: resolve the profile, build the App, run it. Imports textual, never the server.

The embedded platform runs as a child process (``LocalServer``) started by
``connect.open_session`` inside a worker, so the first frame never waits for it.
"""

from __future__ import annotations

import os
from typing import Any


def launch(
    *,
    data_dir: str | None = None,
    url: str | None = None,
    profile: str | None = None,
    read_only: bool = False,
    **_: Any,
) -> None:
    """Open the TUI on a profile, a URL, or the embedded local platform.

    The profile is resolved and the session opened inside the app (in a worker), so the
    first frame is drawn before the settings file, the keyring or the server are touched.
    """
    from flashback_tui.tui.app import FlashbackApp, backend_label_for_target

    def opener(*, profile: Any = profile, credential: Any = None) -> Any:
        """A session on the launch profile/URL, or on a profile chosen in the app."""
        from flashback_tui.connect import open_session
        from flashback_tui.settings import Profile

        target_url = None if isinstance(profile, Profile) else url
        return open_session(profile=profile, url=target_url, data_dir=data_dir,
                            credential=credential)

    label = backend_label_for_target(url or os.environ.get("FLASHBACK_URL"), profile)
    FlashbackApp(opener=opener, read_only=read_only, backend_label=label).run()
