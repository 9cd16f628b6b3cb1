"""Start the TUI: resolve the profile, build the App, run it. Imports textual, never the server.

The embedded platform runs as a child process (``LocalServer``). When the session will most
likely be local, that child is spawned first thing, so its start-up overlaps the app's own;
``connect.open_session`` (inside a worker, after the first frame) then waits for it.
The last-known list of the likely session is read before the app starts (standard library
only) and painted in its first frame; ``--no-cache`` turns that off.
"""

from __future__ import annotations

import os
import tomllib
from typing import TYPE_CHECKING, Any

from flashback_tui import paths

if TYPE_CHECKING:
    from flashback_tui.server.runner import LocalServer

#: Mirrors ``settings.LOCAL_PROFILE`` and ``settings.PROFILE_ENV`` (that module is not
#: imported this early: it loads the pydantic stack).
_LOCAL_PROFILE = "local"
_PROFILE_ENV = "FLASHBACK_PROFILE"


def launch(
    *,
    data_dir: str | None = None,
    url: str | None = None,
    profile: str | None = None,
    read_only: bool = False,
    timeout: float | None = None,
    no_cache: bool = False,
    **_: Any,
) -> None:
    """Open the TUI on a profile, a URL, or the embedded local platform.

    The profile is resolved and the session opened inside the app (in a worker), so the
    first frame is drawn before the settings file, the keyring or the server are touched.
    """
    from flashback_tui.snapshot_identity import startup_key

    key = startup_key(profile=profile, url=url, data_dir=data_dir, no_cache=no_cache)
    store = None if no_cache else _snapshot_store()
    # With a last-known list to paint, the child's start-up would only compete with ours for
    # the CPU: it starts after the first frame instead (in open_session).
    spawn = _local_platform_expected(url, profile) and not _has_snapshot(store, key)
    early = [_spawn_local_server(data_dir) if spawn else None]

    from flashback_tui.tui.app import FlashbackApp, backend_label_for_target

    def opener(*, profile: Any = profile, credential: Any = None) -> Any:
        """A session on the launch profile/URL, or on a profile chosen in the app."""
        from flashback_tui.connect import open_session
        from flashback_tui.settings import Profile

        target_url = None if isinstance(profile, Profile) else url
        spawned, early[0] = early[0], None  # the early child serves the first session only
        return open_session(profile=profile, url=target_url, data_dir=data_dir,
                            credential=credential, local_server=spawned,
                            request_timeout=timeout, no_cache=no_cache)

    label = backend_label_for_target(url or os.environ.get("FLASHBACK_URL"), profile)
    try:
        FlashbackApp(opener=opener, read_only=read_only, backend_label=label,
                     snapshots=store,
                     startup_key=key).run()
    finally:
        if early[0] is not None:  # quit before the session opened
            early[0].stop()


def _local_platform_expected(url: str | None, profile: str | None) -> bool:
    """Whether the session will be the embedded platform, judged without heavy imports.

    Only the settings file's ``default_profile`` and that profile's ``url`` are peeked at. A
    wrong guess costs a child process that ``open_session`` stops; it never changes which
    backend is used.
    """
    if url or os.environ.get("FLASHBACK_URL"):
        return False
    try:
        raw = tomllib.loads(paths.settings_file().read_text(encoding="utf-8"))
    except FileNotFoundError:
        raw = {}
    except (OSError, ValueError):
        return False  # let the settings module report the problem
    name = profile or os.environ.get(_PROFILE_ENV) or raw.get("default_profile") or _LOCAL_PROFILE
    profiles = raw.get("profiles")
    entry = profiles.get(name, {}) if isinstance(profiles, dict) else {}
    return isinstance(entry, dict) and not entry.get("url")


def _spawn_local_server(data_dir: str | None) -> LocalServer | None:
    """Get the embedded platform's child process going; None if it cannot even be spawned."""
    from pathlib import Path

    from flashback_tui.server.runner import LocalServer

    server = LocalServer(Path(paths.data_dir(data_dir)))
    try:
        server.spawn()
    except OSError:
        return None  # open_session starts one again and reports the failure properly
    return server


def _snapshot_store() -> Any:
    """Where last-known lists are kept (the user cache directory)."""
    from flashback_tui.snapshot import SnapshotStore

    return SnapshotStore()


def _has_snapshot(store: Any, key: Any) -> bool:
    """Whether a last-known list is kept for ``key`` (its pointer file exists)."""
    from flashback_tui.snapshot import LATEST_SUFFIX

    if store is None or key is None:
        return False
    return (store.directory / f"{key.identity_stem()}{LATEST_SUFFIX}").exists()
