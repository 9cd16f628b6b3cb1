"""The places a profile's credential can live: the OS keyring and the opt-in plaintext file.

See :mod:`flashback_tui.credentials` for the chain that uses them.
"""

from __future__ import annotations

import concurrent.futures
import os
import stat
import threading
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from flashback_tui import paths
from flashback_tui.credential_types import (
    CREDENTIALS_DIR_NAME,
    DEFAULT_KEYRING_TIMEOUT,
    KEYRING_SERVICE,
    PLAINTEXT_WARNING,
    TIMEOUT_ENV,
    CredentialError,
    InsecureFileError,
    KeyringUnavailable,
    StoredCredential,
)

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

    from flashback_tui.settings import Profile


T = TypeVar("T")


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
