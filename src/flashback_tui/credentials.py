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

import concurrent.futures
import json
import os
import stat
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from pydantic import SecretStr

from flashback_tui import paths

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

    from flashback_tui.settings import Profile

TOKEN_ENV = "FLASHBACK_TOKEN"
TIMEOUT_ENV = "FLASHBACK_KEYRING_TIMEOUT"
KEYRING_SERVICE = "flashback-tui"
DEFAULT_KEYRING_TIMEOUT = 5.0
CREDENTIALS_DIR_NAME = "credentials"

ENV_SOURCE = "environment (FLASHBACK_TOKEN)"
EMBEDDED_SOURCE = "embedded local admin"
MEMORY_SOURCE = "memory (this session only)"
PLAINTEXT_WARNING = "PLAINTEXT — readable by anyone with access to this account"

T = TypeVar("T")


def brief_source(where: str) -> str:
    """A few words for a header: ``keyring``, ``plaintext file``, ``FLASHBACK_TOKEN``, ..."""
    if where.startswith("file "):
        return "plaintext file"
    if where.startswith("keyring"):
        return "keyring"
    return {ENV_SOURCE: TOKEN_ENV, MEMORY_SOURCE: "memory only",
            EMBEDDED_SOURCE: "local admin"}.get(where, where)


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------


class CredentialError(Exception):
    """A credential could not be read, stored or removed."""


class KeyringUnavailable(CredentialError):
    """No usable keyring here, or it failed or did not answer in time (the message says)."""


class InsecureFileError(CredentialError):
    """A credentials file or directory that others could read; it is refused, not used."""


class NoSafeStorageError(CredentialError):
    """Nowhere to keep a token without the user's consent to a plaintext file."""

    def __init__(self, notes: list[str]) -> None:
        self.notes = notes
        super().__init__("; ".join(notes) or "no usable OS keyring")


class NoCredentialError(CredentialError):
    """A remote profile has no usable credential; the message says how to sign in."""

    #: How the message's first line begins (the reasons follow as ``  - `` lines).
    HEADLINE_PREFIX = "Not signed in to "

    def __init__(self, profile: Profile, notes: list[str] | None = None) -> None:
        self.profile = profile
        self.notes = list(notes or [])
        lines = [f"{self.HEADLINE_PREFIX}{profile.display_url} (profile {profile.name!r})."]
        lines += [f"  - {note}" for note in self.notes]
        lines.append(
            f"Sign in with: flashback-tui login --profile {profile.name}"
            + ("" if profile.url is None else f" --url {profile.url}")
        )
        lines.append(f"or, for one command or script, set {TOKEN_ENV} (and FLASHBACK_URL).")
        super().__init__("\n".join(lines))


# ---------------------------------------------------------------------------------------------
# The stored credential
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredCredential:
    """Tokens of one profile, with the account and URL they belong to."""

    access_token: SecretStr
    refresh_token: SecretStr | None = None
    #: Expiry of the access token, Unix time in milliseconds (None: unknown).
    expires_at: int | None = None
    email: str | None = None
    url: str | None = None

    def to_json(self) -> str:
        """The document a store keeps (this is the one place tokens are revealed)."""
        return json.dumps({
            "accessToken": self.access_token.get_secret_value(),
            "refreshToken": None if self.refresh_token is None
            else self.refresh_token.get_secret_value(),
            "expiresAt": self.expires_at,
            "email": self.email,
            "url": self.url,
        })

    @classmethod
    def from_json(cls, text: str, where: str) -> StoredCredential:
        """Parse a stored document; a damaged one is a CredentialError naming ``where``."""
        try:
            data = json.loads(text)
            access = data["accessToken"]
            if not isinstance(access, str) or not access:
                raise ValueError
            refresh = data.get("refreshToken")
            expires = data.get("expiresAt")
            return cls(
                access_token=SecretStr(access),
                refresh_token=SecretStr(refresh) if isinstance(refresh, str) and refresh
                else None,
                expires_at=int(expires) if isinstance(expires, int | float) else None,
                email=data.get("email") if isinstance(data.get("email"), str) else None,
                url=data.get("url") if isinstance(data.get("url"), str) else None,
            )
        except (ValueError, KeyError, TypeError):
            raise CredentialError(
                f"the credential in {where} is damaged; sign in again to replace it"
            ) from None

    def with_tokens(
        self, access_token: SecretStr, refresh_token: SecretStr | None, expires_at: int | None
    ) -> StoredCredential:
        """The same account with fresh tokens."""
        return StoredCredential(access_token, refresh_token or self.refresh_token,
                                expires_at, self.email, self.url)


class CredentialStore(Protocol):
    """A place that keeps one credential per profile."""

    def where(self, profile: Profile) -> str:
        """How the user is told where the credential lives."""
        ...

    def load(self, profile: Profile) -> StoredCredential | None: ...

    def save(self, profile: Profile, credential: StoredCredential) -> None: ...

    def delete(self, profile: Profile) -> bool: ...


# ---------------------------------------------------------------------------------------------
# Calls that may hang: a daemon thread and a timeout
# ---------------------------------------------------------------------------------------------


def call_with_timeout(function: Callable[[], T], timeout: float, name: str = "call") -> T:
    """Run ``function`` in a daemon thread; TimeoutError if it has not returned in time.

    A daemon thread (not an executor's worker) so that a call stuck for good never holds
    up the interpreter's exit.
    """
    future: concurrent.futures.Future[T] = concurrent.futures.Future()

    def run() -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(function())
        except BaseException as exc:  # handed to the caller, who decides
            future.set_exception(exc)

    threading.Thread(target=run, name=f"flashback-{name}", daemon=True).start()
    try:
        return future.result(timeout)
    except concurrent.futures.TimeoutError:
        raise TimeoutError(f"{name} did not answer within {timeout:g} s") from None


def keyring_timeout() -> float:
    """The keyring timeout: ``$FLASHBACK_KEYRING_TIMEOUT`` seconds, else 5 s."""
    try:
        value = float(os.environ.get(TIMEOUT_ENV, DEFAULT_KEYRING_TIMEOUT))
    except ValueError:
        return DEFAULT_KEYRING_TIMEOUT
    return value if value > 0 else DEFAULT_KEYRING_TIMEOUT


# ---------------------------------------------------------------------------------------------
# The OS keyring
# ---------------------------------------------------------------------------------------------


def backend_label(backend: object) -> str:
    """A backend's class name, with its module when the class is just ``Keyring``."""
    cls = type(backend)
    if cls.__name__ == "Keyring":
        return f"{cls.__module__.rsplit('.', 1)[-1]}.Keyring"
    return cls.__name__


def _prompts_on_terminal(backend: object) -> bool:
    """Backends that ask for a master password on the terminal (file-encrypting ones)."""
    from keyring.backends import chainer

    if isinstance(backend, chainer.ChainerBackend):
        return any(_prompts_on_terminal(child) for child in backend.backends)
    module = type(backend).__module__
    return module.startswith(("keyrings.cryptfile", "keyrings.alt.file")) and (
        "Encrypted" in type(backend).__name__ or module.startswith("keyrings.cryptfile")
    )


#: Keyring backends that timed out once in this process: they are not asked again.
_hung_backends: weakref.WeakSet[object] = weakref.WeakSet()
#: Set when finding the keyring backend itself timed out in this process.
_backend_lookup_hung = threading.Event()


class KeyringStore:
    """The OS keyring via ``keyring.get_keyring()``, every call in a thread under a timeout.

    ``allow_terminal_prompt=False`` (the TUI) refuses backends that would ask for a
    password on the terminal.
    """

    def __init__(self, *, timeout: float | None = None, allow_terminal_prompt: bool = True,
                 backend: KeyringBackend | None = None) -> None:
        self.timeout = keyring_timeout() if timeout is None else timeout
        self.allow_terminal_prompt = allow_terminal_prompt
        self._backend = backend

    def backend(self) -> KeyringBackend:
        """The usable backend, or KeyringUnavailable saying why there is none."""
        if self._backend is None:
            import keyring

            self._backend = self._call(keyring.get_keyring, "the keyring", key=None)
        backend = self._backend
        from keyring.backends import chainer, fail, null

        label = backend_label(backend)
        if isinstance(backend, fail.Keyring | null.Keyring) or (
            isinstance(backend, chainer.ChainerBackend) and not backend.backends
        ):
            raise KeyringUnavailable(f"no usable OS keyring (backend: {label})")
        if not self.allow_terminal_prompt and _prompts_on_terminal(backend):
            raise KeyringUnavailable(
                f"keyring ({label}) would ask for a password on the terminal; not used here"
            )
        return backend

    def where(self, profile: Profile | None = None) -> str:
        """``keyring (<backend class>)``."""
        try:
            return f"keyring ({backend_label(self.backend())})"
        except KeyringUnavailable:
            return "keyring (unavailable)"

    def load(self, profile: Profile) -> StoredCredential | None:
        backend = self.backend()
        text = self._call(lambda: backend.get_password(KEYRING_SERVICE, profile.name),
                          self.where(), key=backend)
        if text is None:
            return None
        return StoredCredential.from_json(text, self.where())

    def save(self, profile: Profile, credential: StoredCredential) -> None:
        backend = self.backend()
        document = credential.to_json()
        secrets = [value.get_secret_value() for value in
                   (credential.access_token, credential.refresh_token) if value is not None]
        self._call(lambda: backend.set_password(KEYRING_SERVICE, profile.name, document),
                   self.where(), key=backend, redact=[document, *secrets])

    def delete(self, profile: Profile) -> bool:
        from keyring.errors import PasswordDeleteError

        backend = self.backend()

        def remove() -> bool:
            try:
                backend.delete_password(KEYRING_SERVICE, profile.name)
            except PasswordDeleteError:
                return False
            return True

        return self._call(remove, self.where(), key=backend)

    def _call(self, function: Callable[[], T], what: str, *, key: object | None,
              redact: list[str] | None = None) -> T:
        """One keyring call: KeyringUnavailable on a timeout or a keyring failure.

        ``key`` is the backend (None while finding it); one that timed out is not asked
        again in this process, so a hung keyring costs one timeout, not one per call.
        """
        hung = _backend_lookup_hung.is_set() if key is None else key in _hung_backends
        if hung:
            raise KeyringUnavailable(f"{what} did not answer earlier; skipped")
        try:
            return call_with_timeout(function, self.timeout, "keyring")
        except TimeoutError:
            if key is None:
                _backend_lookup_hung.set()
            else:
                _hung_backends.add(key)
            raise KeyringUnavailable(
                f"{what} did not answer within {self.timeout:g} s (a locked or hung keyring "
                "service?); skipped"
            ) from None
        except CredentialError:
            raise
        except Exception as exc:  # any backend failure (D-Bus, locked collection, ...)
            reason = str(exc)
            for secret in redact or []:  # a backend's message must never carry a token
                reason = reason.replace(secret, "***")
            raise KeyringUnavailable(f"{what} failed: {type(exc).__name__}: {reason}") from None


# ---------------------------------------------------------------------------------------------
# The opt-in plaintext file
# ---------------------------------------------------------------------------------------------


class FileStore:
    """One plaintext JSON file per profile, 0600 in a 0700 directory, written atomically."""

    def __init__(self, directory: Path | None = None) -> None:
        self._directory = directory

    @property
    def directory(self) -> Path:
        """``<config dir>/credentials`` unless given."""
        return self._directory or paths.config_dir() / CREDENTIALS_DIR_NAME

    def path(self, profile: Profile) -> Path:
        """The file of one profile."""
        return self.directory / f"{profile.name}.json"

    def where(self, profile: Profile) -> str:
        """``file <path> (PLAINTEXT — ...)``."""
        return f"file {self.path(profile)} ({PLAINTEXT_WARNING})"

    def exists(self, profile: Profile) -> bool:
        """True when the profile has a credentials file (whatever its permissions)."""
        return self.path(profile).is_file()

    def load(self, profile: Profile) -> StoredCredential | None:
        path = self.path(profile)
        if not path.exists():
            return None
        self._check_directory()
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)
        try:
            fd = os.open(path, flags)
        except OSError as exc:
            raise CredentialError(f"cannot read {path}: {exc.strerror or exc}") from None
        with os.fdopen(fd, "rb") as handle:
            _check_private(os.fstat(handle.fileno()), path, "600", file=True)
            text = handle.read().decode("utf-8", errors="replace")
        return StoredCredential.from_json(text, str(path))

    def save(self, profile: Profile, credential: StoredCredential) -> None:
        from flashback_tui.settings import SettingsError, write_atomically

        try:
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            self._check_directory()
            write_atomically(self.path(profile), credential.to_json().encode(), mode=0o600)
        except (OSError, SettingsError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            raise CredentialError(f"cannot write {self.path(profile)}: {reason}") from None

    def delete(self, profile: Profile) -> bool:
        try:
            self.path(profile).unlink()
        except FileNotFoundError:
            return False
        return True

    def _check_directory(self) -> None:
        directory = self.directory
        _check_private(os.stat(directory), directory, "700", file=False)


def _check_private(info: os.stat_result, path: Path, fix_mode: str, *, file: bool) -> None:
    """Refuse a file or directory that is not the user's own or that others can access."""
    if os.name != "posix":
        return
    kind = "file" if file else "directory"
    if file and not stat.S_ISREG(info.st_mode):
        raise InsecureFileError(f"{path} is not a regular file; refusing to use it")
    if info.st_uid != os.getuid():
        raise InsecureFileError(f"credentials {kind} {path} belongs to another user; "
                                "refusing to use it")
    if info.st_mode & 0o077:
        mode = oct(stat.S_IMODE(info.st_mode))[2:]
        raise InsecureFileError(
            f"credentials {kind} {path} has mode {mode}: group or others can access it, so it "
            f"is refused. Fix it with: chmod {fix_mode} {path}"
            + (" (and sign in again if someone else may have read it)" if file else "")
        )


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
