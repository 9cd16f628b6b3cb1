"""Where a profile's tokens live, and the chain that finds them.

The chain, first match wins:

1. ``$FLASHBACK_TOKEN`` in the environment (scripts, CI; nothing is stored);
2. the OS keyring (the ``keyring`` package, honouring ``PYTHON_KEYRING_BACKEND`` and the
   user's keyring config), only when a usable backend exists: never the ``fail`` or ``null``
   backend. Every keyring call runs in a daemon thread under a timeout (5 s by default,
   ``$FLASHBACK_KEYRING_TIMEOUT``), so a hung D-Bus cannot freeze anything: a timeout falls
   through to the next link and says so;
3. a plaintext file, only when the user opted in (``login --insecure-storage``, remembered
   per profile): one file per profile, mode 0600, in a 0700 directory, written atomically,
   and refused when anyone but its owner can read it.

Each stored credential is a small JSON document: access token, refresh token, expiry (Unix
ms), e-mail and the URL it belongs to. A credential is only ever sent to that URL. Tokens
are ``SecretStr`` everywhere except inside the store's own write.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr

from flashback_tui.credential_stores import (
    FileStore,
    KeyringStore,
    backend_label,
    call_with_timeout,
    keyring_timeout,
)
from flashback_tui.credential_types import (
    EMBEDDED_SOURCE,
    ENV_SOURCE,
    KEYRING_SERVICE,
    MEMORY_SOURCE,
    PLAINTEXT_WARNING,
    TOKEN_ENV,
    CredentialError,
    CredentialStore,
    InsecureFileError,
    KeyringUnavailable,
    NoCredentialError,
    NoSafeStorageError,
    StoredCredential,
    brief_source,
)

if TYPE_CHECKING:

    from flashback_tui.settings import Profile


__all__ = [
    "EMBEDDED_SOURCE", "ENV_SOURCE", "KEYRING_SERVICE", "MEMORY_SOURCE", "PLAINTEXT_WARNING",
    "TOKEN_ENV", "CredentialError", "CredentialLookup", "CredentialStore", "FileStore",
    "InsecureFileError", "KeyringStore", "KeyringUnavailable", "NoCredentialError",
    "NoSafeStorageError", "RefreshWriter", "ResolvedCredential", "StoredCredential",
    "backend_label", "brief_source", "call_with_timeout", "env_token", "find_credential",
    "forget_credential", "keep_credential", "keyring_timeout", "save_credential",
]


# ---------------------------------------------------------------------------------------------
# The chain
# ---------------------------------------------------------------------------------------------


@dataclass
class ResolvedCredential:
    """A credential found by the chain, where it was, and the store to write refreshes to."""

    credential: StoredCredential
    where: str
    store: CredentialStore | None = None


@dataclass
class CredentialLookup:
    """The chain's answer: a credential (or None) and notes on every link that fell through."""

    resolved: ResolvedCredential | None
    notes: list[str] = field(default_factory=list)


def env_token() -> SecretStr | None:
    """``$FLASHBACK_TOKEN`` when set and not blank."""
    value = os.environ.get(TOKEN_ENV, "").strip()
    return SecretStr(value) if value else None


def find_credential(
    profile: Profile,
    *,
    keyring_store: KeyringStore | None = None,
    file_store: FileStore | None = None,
    allow_terminal_prompt: bool = True,
) -> CredentialLookup:
    """Walk the chain for a remote profile (blocking: call it in a thread from async code)."""
    token = env_token()
    if token is not None:
        credential = StoredCredential(access_token=token, url=profile.url)
        return CredentialLookup(ResolvedCredential(credential, ENV_SOURCE))
    notes: list[str] = []
    stores: list[CredentialStore] = [
        keyring_store or KeyringStore(allow_terminal_prompt=allow_terminal_prompt),
        file_store or FileStore(),
    ]
    for store in stores:
        try:
            credential = store.load(profile)
        except CredentialError as exc:
            notes.append(str(exc))
            continue
        if credential is None:
            continue
        where = store.where(profile)
        if credential.url and profile.url and credential.url.rstrip("/") != profile.url:
            notes.append(f"{where} holds a credential for {credential.url}, not {profile.url}; "
                         "not sent")
            continue
        return CredentialLookup(ResolvedCredential(credential, where, store), notes)
    if not any("keyring" in note for note in notes):
        notes.append(f"no credential for profile {profile.name!r} in the keyring or a file")
    return CredentialLookup(None, notes)


def save_credential(
    profile: Profile,
    credential: StoredCredential,
    *,
    insecure_storage: bool,
    keyring_store: KeyringStore | None = None,
    file_store: FileStore | None = None,
) -> tuple[str, list[str]]:
    """Keep a credential in the keyring, else (only with consent) in the file.

    Returns (where, notes). Raises NoSafeStorageError when the keyring is unusable and the
    user has not agreed to a plaintext file: plaintext is never written without asking.
    A credential kept in the keyring replaces any plaintext file of the same profile.
    """
    store, notes = _store_credential(profile, credential, insecure_storage=insecure_storage,
                                     keyring_store=keyring_store, file_store=file_store)
    return store.where(profile), notes


def keep_credential(
    profile: Profile,
    credential: StoredCredential,
    *,
    insecure_storage: bool,
    keyring_store: KeyringStore | None = None,
    file_store: FileStore | None = None,
) -> tuple[ResolvedCredential, list[str]]:
    """Like :func:`save_credential`, but with nowhere safe to go it stays in memory only."""
    try:
        store, notes = _store_credential(
            profile, credential, insecure_storage=insecure_storage,
            keyring_store=keyring_store, file_store=file_store,
        )
    except NoSafeStorageError as exc:
        return ResolvedCredential(credential, MEMORY_SOURCE), exc.notes
    except CredentialError as exc:
        return ResolvedCredential(credential, MEMORY_SOURCE), [str(exc)]
    return ResolvedCredential(credential, store.where(profile), store), notes


def _store_credential(
    profile: Profile,
    credential: StoredCredential,
    *,
    insecure_storage: bool,
    keyring_store: KeyringStore | None,
    file_store: FileStore | None,
) -> tuple[CredentialStore, list[str]]:
    """Write to the keyring, else to the file when allowed; the store used and notes."""
    keyring_store = keyring_store or KeyringStore()
    file_store = file_store or FileStore()
    notes: list[str] = []
    try:
        keyring_store.save(profile, credential)
    except CredentialError as exc:
        notes.append(str(exc))
    else:
        file_store.delete(profile)
        return keyring_store, notes
    if not insecure_storage:
        raise NoSafeStorageError(notes)
    file_store.save(profile, credential)
    return file_store, notes


def forget_credential(
    profile: Profile,
    *,
    keyring_store: KeyringStore | None = None,
    file_store: FileStore | None = None,
) -> tuple[list[str], list[str]]:
    """Remove a profile's credential from every store; returns (removed from, notes)."""
    removed: list[str] = []
    notes: list[str] = []
    for store in (keyring_store or KeyringStore(), file_store or FileStore()):
        try:
            if store.delete(profile):
                removed.append(store.where(profile))
        except CredentialError as exc:
            notes.append(str(exc))
    return removed, notes


class RefreshWriter:
    """The client's ``on_tokens_refreshed``: new tokens go back to the store they came from.

    The write runs in a daemon thread so the client's call is never held up by the keyring;
    :meth:`wait` (at session close) gives pending writes a bounded time to finish. Tokens
    from the environment have no store: they are kept in memory only.
    """

    def __init__(self, profile: Profile, resolved: ResolvedCredential) -> None:
        self.profile = profile
        self.resolved = resolved
        self.errors: list[str] = []
        self._pending: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()

    def __call__(self, tokens: Any) -> None:
        """Called by the client with its ``Tokens`` after every refresh."""
        with self._lock:
            self.resolved.credential = self.resolved.credential.with_tokens(
                tokens.access_token, tokens.refresh_token, tokens.expires_at
            )
        store = self.resolved.store
        if store is None:
            return
        thread = threading.Thread(target=self._write, args=(store,),
                                  name="flashback-token-write", daemon=True)
        self._pending.append(thread)
        thread.start()

    def _write(self, store: CredentialStore) -> None:
        with self._write_lock:  # one write at a time; never held by the caller's thread
            with self._lock:
                credential = self.resolved.credential  # the newest, whichever thread runs last
            try:
                store.save(self.profile, credential)
            except Exception as exc:  # recorded, never raised in a background thread
                self.errors.append(f"could not store refreshed tokens: {exc}")

    def wait(self, timeout: float) -> None:
        """Wait up to ``timeout`` seconds in all for pending writes."""
        import time

        deadline = time.monotonic() + timeout
        for thread in list(self._pending):
            thread.join(max(0.0, deadline - time.monotonic()))
