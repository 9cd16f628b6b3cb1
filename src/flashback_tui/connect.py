"""Opening a session: pick the profile, find its credential, start the local platform if needed.

``open_session`` is what the TUI and the CLI call to get a ready :class:`FlashbackClient`:

- ``url`` (``--url`` or ``$FLASHBACK_URL``) with ``$FLASHBACK_TOKEN`` works with no settings
  file at all (scripts, CI);
- a profile with a URL uses the credential chain of :mod:`flashback_tui.credentials`, and
  tokens refreshed by the client are written back to the store they came from;
- the ``local`` profile (no URL) starts the embedded platform in a thread, never blocking
  the event loop, signs in as its local admin, and keeps it alive: a
  :class:`~flashback_tui.supervisor.Supervisor` (``Session.supervisor``) restarts the child
  when it exits and hands the new token to the same client.

:func:`snapshot_key` names the last-known list of a session's workspace (see
:mod:`flashback_tui.snapshot`); :func:`cache_enabled` says whether such lists are kept.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from flashback_tui import credentials
from flashback_tui.credentials import NoCredentialError
from flashback_tui.settings import Profile, SettingsError, load_settings

if TYPE_CHECKING:
    from pydantic import SecretStr

    from flashback_tui.api.client import FlashbackClient
    from flashback_tui.server.runner import LocalServer
    from flashback_tui.snapshot import SnapshotKey
    from flashback_tui.supervisor import Supervisor

__all__ = ["NoCredentialError", "Session", "cache_enabled", "open_session", "resolve_profile",
           "sign_in", "snapshot_key"]

URL_ENV = "FLASHBACK_URL"
#: How long closing a session waits for a refreshed token to reach its store.
PENDING_WRITE_GRACE = 6.0


@dataclass
class Session:
    """A connected client and what it is connected to."""

    client: FlashbackClient
    """The API client, signed in."""
    profile: Profile
    """The profile in use (an unsaved one for ``--url`` without a matching profile)."""
    url: str
    """The platform's base URL (for the local platform, its loopback URL)."""
    credential_source: str
    """Where the credential came from, as shown to the user (see ``credentials``)."""
    local_server: LocalServer | None = None
    """The embedded platform when the profile is local, else None."""
    account: str | None = None
    """The signed-in account's e-mail as the credential says (None: an anonymous token)."""
    cache_enabled: bool = True
    """Whether last-known lists are kept and shown (``--no-cache``, ``cache = false``)."""
    supervisor: Supervisor | None = None
    """What restarts the embedded platform when it stops (local sessions only)."""

    def replace_token(self, access_token: str | SecretStr,
                      refresh_token: str | SecretStr | None = None) -> None:
        """Send these tokens from now on; the same client (and its pool) keeps working."""
        self.client.set_tokens(access_token, refresh_token)


def cache_enabled(profile: Profile, *, no_cache: bool = False) -> bool:
    """Whether last-known lists are kept for ``profile``: not under ``--no-cache`` nor with
    ``cache = false`` in the profile."""
    return not no_cache and profile.cache


def snapshot_key(session: Session, workspace_id: str | None, *,
                 user_id: str | None = None) -> SnapshotKey | None:
    """The key of the last-known list of ``workspace_id`` (None: all workspaces).

    The user is the session's account (its e-mail, lowercased), else ``user_id`` (the
    platform's id of the caller, once known). None when caching is off or the user is not
    known yet: then nothing is saved or shown.
    """
    from flashback_tui.snapshot import SnapshotKey
    from flashback_tui.snapshot_identity import embedded_address, user_label

    if not session.cache_enabled:
        return None
    user = user_label(email=session.account, user_id=user_id)
    if user is None:
        return None
    if session.local_server is not None:
        url = embedded_address(session.local_server.data_dir)
    else:
        url = session.profile.url or session.url
    return SnapshotKey(session.profile.name, url, user, workspace_id)


def resolve_profile(profile: str | None = None, url: str | None = None) -> Profile:
    """The profile to use for ``--profile``/``--url`` (and their environment variables).

    With a URL and no profile name, a saved profile with the same URL is used if there is
    one (so its stored credential applies), else an unsaved profile named after the host.
    With neither, ``$FLASHBACK_PROFILE`` or the default profile.
    """
    url = url or (None if profile else os.environ.get(URL_ENV)) or None
    if url and not profile:
        try:
            settings = load_settings()
        except SettingsError:
            if os.environ.get(credentials.TOKEN_ENV):
                return adhoc_profile(url)  # scripts with a token need no settings file
            raise
        return settings.find_profile_by_url(url) or adhoc_profile(url)
    chosen = load_settings().get_profile(profile)
    if url:
        return chosen.model_copy(update={"url": Profile(name=chosen.name, url=url).url})
    return chosen


async def sign_in(url: str, email: str, password: SecretStr) -> credentials.StoredCredential:
    """``POST /user/login``: the tokens of a fresh session, not yet stored anywhere."""
    from flashback_tui.api.client import FlashbackClient

    async with FlashbackClient(url) as client:
        answer = await client.login(email, password)
    who = answer.user.email if answer.user is not None else email
    return credentials.StoredCredential(answer.access_token, answer.refresh_token,
                                        answer.expires_at, who, url)


def adhoc_profile(url: str) -> Profile:
    """An unsaved profile for a bare URL, named after its host."""
    host = urlsplit(url).netloc or "remote"
    name = "".join(ch if ch.isalnum() or ch in "._-" else "-" for ch in host).lstrip(".-")
    return Profile(name=name or "remote", url=url)


@asynccontextmanager
async def open_session(
    *,
    profile: str | Profile | None = None,
    url: str | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    credential: credentials.ResolvedCredential | None = None,
    local_server: LocalServer | None = None,
    request_timeout: float | None = None,
    no_cache: bool = False,
) -> AsyncIterator[Session]:
    """A signed-in session for a profile, a URL, or the embedded local platform.

    ``credential`` (for a remote profile) skips the chain: the TUI's sign-in screen passes
    the one it just obtained, possibly kept in memory only. ``local_server`` is an embedded
    platform already spawned for ``data_dir`` (the TUI gets it going before it imports its
    own stack); it is used if the profile is local and stopped otherwise. Raises
    ``NoCredentialError`` when a remote profile has no usable credential and
    ``SettingsError`` when the settings file is broken or the profile unknown.
    ``request_timeout`` (seconds) bounds each request of the client; None keeps its default.
    ``no_cache`` (``--no-cache``) turns last-known lists off (``Session.cache_enabled``).
    """
    try:
        if isinstance(profile, Profile):
            chosen = profile if url is None else profile.model_copy(update={"url": url})
        else:
            chosen = await asyncio.to_thread(resolve_profile, profile, url)
    except BaseException:
        if local_server is not None:
            await asyncio.to_thread(local_server.stop)
        raise
    if chosen.is_local:
        opened = _local_session(chosen, data_dir, local_server, request_timeout)
    else:
        if local_server is not None:
            await asyncio.to_thread(local_server.stop)
        opened = _remote_session(chosen, credential, request_timeout)
    async with opened as session:
        session.cache_enabled = cache_enabled(chosen, no_cache=no_cache)
        yield session


def _timeout_option(timeout: float | None) -> dict[str, float]:
    """The client's ``timeout`` keyword when one was asked for (else its own default)."""
    return {} if timeout is None else {"timeout": timeout}


@asynccontextmanager
async def _local_session(
    profile: Profile, data_dir: str | os.PathLike[str] | None, server: LocalServer | None,
    request_timeout: float | None,
) -> AsyncIterator[Session]:
    """Start the embedded platform (in a thread) and sign in as its local admin."""
    from flashback_tui import paths
    from flashback_tui.api.client import FlashbackClient
    from flashback_tui.server.runner import LocalServer
    from flashback_tui.snapshot_identity import LOCAL_ADMIN_EMAIL
    from flashback_tui.supervisor import Supervisor

    server = server or LocalServer(Path(paths.data_dir(data_dir)))
    # Returns once the child listens; the first requests wait in its backlog while its web
    # stack finishes loading, so that start-up overlaps ours.
    await asyncio.to_thread(server.start, wait_serving=False)
    supervisor: Supervisor | None = None
    try:
        async with FlashbackClient(server.url, token=server.admin_token,
                                   **_timeout_option(request_timeout)) as client:
            supervisor = Supervisor(server, client=client)
            supervisor.start()
            yield Session(client=client, profile=profile, url=server.url,
                          credential_source=credentials.EMBEDDED_SOURCE, local_server=server,
                          account=LOCAL_ADMIN_EMAIL, supervisor=supervisor)
    finally:
        await asyncio.to_thread(_stop_local, server, supervisor)


def _stop_local(server: LocalServer, supervisor: Supervisor | None) -> None:
    """Stop supervising first, so no restart races the stop."""
    if supervisor is not None:
        supervisor.stop()
    server.stop()


@asynccontextmanager
async def _remote_session(
    profile: Profile, resolved: credentials.ResolvedCredential | None = None,
    request_timeout: float | None = None,
) -> AsyncIterator[Session]:
    """Find the profile's credential (off the event loop) and open a client with it."""
    from flashback_tui.api.client import FlashbackClient

    if resolved is None:
        found = await asyncio.to_thread(
            credentials.find_credential, profile, allow_terminal_prompt=False
        )
        if found.resolved is None:
            raise NoCredentialError(profile, found.notes)
        resolved = found.resolved
    writer = credentials.RefreshWriter(profile, resolved)
    assert profile.url is not None
    try:
        async with FlashbackClient(
            profile.url,
            token=resolved.credential.access_token,
            refresh_token=resolved.credential.refresh_token,
            on_tokens_refreshed=writer,
            **_timeout_option(request_timeout),
        ) as client:
            yield Session(client=client, profile=profile, url=profile.url,
                          credential_source=resolved.where, account=resolved.credential.email)
    finally:
        await asyncio.to_thread(writer.wait, PENDING_WRITE_GRACE)
