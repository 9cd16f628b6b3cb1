"""Whose last-known list to show, worked out before the session opens (for the first frame).

A :class:`~flashback_tui.snapshot.SnapshotKey` names a profile, a platform and a user. Once
a session is open, :func:`flashback_tui.connect.snapshot_key` gives the exact key. Before
that, :func:`startup_key` guesses it from the command line, the environment and a quick read
of the settings file (no pydantic, no keyring, no network), as fast as the first frame needs:

- the embedded platform: profile ``local`` (or the profile naming no URL), the platform's
  data dir, and its local admin;
- a saved remote profile: its URL and the account it was last signed in with (``email``);
- anything less certain (``FLASHBACK_TOKEN``, a URL with no saved profile, a profile with
  ``cache = false``, ``--no-cache``, a settings file that cannot be read): None.

A guess can still be wrong (a profile's ``email`` older than its credential): when the
session opens, the caller compares ``snapshot_key(session, ...)`` with the key it painted
and drops the cached rows if they differ.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from flashback_tui import paths
from flashback_tui.snapshot import SnapshotKey

__all__ = ["EMBEDDED_PREFIX", "LOCAL_ADMIN_EMAIL", "embedded_address", "startup_key",
           "user_label"]

#: The user the embedded platform signs in as (the server's ``LOCAL_ADMIN_EMAIL``).
LOCAL_ADMIN_EMAIL = "admin@localhost"
#: How a snapshot key names the embedded platform: by its data dir, not its loopback port.
EMBEDDED_PREFIX = "embedded:"
#: Mirrors ``settings.LOCAL_PROFILE``, ``settings.PROFILE_ENV``, ``connect.URL_ENV`` and
#: ``credentials.TOKEN_ENV`` (those modules load the pydantic stack).
_LOCAL_PROFILE = "local"
_PROFILE_ENV = "FLASHBACK_PROFILE"
_URL_ENV = "FLASHBACK_URL"
_TOKEN_ENV = "FLASHBACK_TOKEN"


def embedded_address(data_dir: str | os.PathLike[str]) -> str:
    """The embedded platform of ``data_dir`` as a snapshot key's URL."""
    return EMBEDDED_PREFIX + str(Path(data_dir).expanduser().absolute())


def user_label(*, email: str | None = None, user_id: str | None = None) -> str | None:
    """A snapshot key's user: the account's e-mail (lowercased), else ``id:`` + its id."""
    if email and email.strip():
        return email.strip().lower()
    if user_id:
        return f"id:{user_id}"
    return None


def startup_key(
    *,
    profile: str | None = None,
    url: str | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    no_cache: bool = False,
) -> SnapshotKey | None:
    """The key (workspace None) of the session that ``--profile``/``--url``/``--data-dir``
    will most likely open, or None when it cannot be told for sure (see the module)."""
    if no_cache:
        return None
    raw = _peek_settings()
    if raw is None:
        return None
    url = _normal_url(url or (None if profile else os.environ.get(_URL_ENV)))
    name = profile or (_profile_for_url(raw, url) if url else None)
    if url and name is None:
        return None  # an unsaved profile: no account is known before it answers
    name = name or os.environ.get(_PROFILE_ENV) or raw.get("default_profile") or _LOCAL_PROFILE
    entry = _profiles(raw).get(name)
    if entry is None and name != _LOCAL_PROFILE:
        return None
    entry = entry or {}
    if entry.get("cache") is False:
        return None
    if url and profile and _normal_url(entry.get("url")) != url:
        return None  # its stored credential is for another URL: not the one sent
    target = url or _normal_url(entry.get("url"))
    if not target:
        return SnapshotKey(name, embedded_address(paths.data_dir(data_dir)), LOCAL_ADMIN_EMAIL)
    email = entry.get("email")
    user = user_label(email=email) if isinstance(email, str) else None
    if user is None or os.environ.get(_TOKEN_ENV, "").strip():
        return None
    return SnapshotKey(name, target, user)


def _peek_settings() -> dict[str, Any] | None:
    """The settings file's TOML, {} when there is none, None when it cannot be read."""
    try:
        return tomllib.loads(paths.settings_file().read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError):
        return None


def _profiles(raw: dict[str, Any]) -> dict[str, dict[str, Any]]:
    profiles = raw.get("profiles")
    if not isinstance(profiles, dict):
        return {}
    return {name: entry for name, entry in profiles.items() if isinstance(entry, dict)}


def _profile_for_url(raw: dict[str, Any], url: str) -> str | None:
    """The first saved profile with this URL (as ``Settings.find_profile_by_url``)."""
    for name, entry in _profiles(raw).items():
        if _normal_url(entry.get("url")) == url:
            return name
    return None


def _normal_url(url: object) -> str | None:
    """A URL as a profile keeps it (no surrounding blanks, no trailing slash)."""
    if not isinstance(url, str) or not url.strip():
        return None
    return url.strip().rstrip("/")
