"""Keyring backends for the credential tests: in memory, JSON file, and one that hangs.

In-process tests install one with ``keyring.set_keyring(...)``. Subprocess tests choose
``JsonFileKeyring`` with ``PYTHON_KEYRING_BACKEND=tests.support.keyrings.JsonFileKeyring``
and ``FLASHBACK_TEST_KEYRING_FILE=<path>``, so a value written by one process is read by
the next, exactly as with a real OS keyring.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError

#: Below every real backend (and below ``fail``), so keyring's own discovery never picks a
#: test backend just because this module was imported; tests choose one explicitly.
TEST_PRIORITY = -2


class MemoryKeyring(KeyringBackend):
    """A keyring kept in a dict: the well-behaved desktop case."""

    priority = TEST_PRIORITY  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.values.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.values[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.values.pop((service, username), None) is None:
            raise PasswordDeleteError("not found")


class JsonFileKeyring(KeyringBackend):
    """A keyring in the JSON file ``$FLASHBACK_TEST_KEYRING_FILE`` (shared by processes)."""

    priority = TEST_PRIORITY  # type: ignore[assignment]

    @property
    def path(self) -> Path:
        return Path(os.environ["FLASHBACK_TEST_KEYRING_FILE"])

    def _read(self) -> dict[str, str]:
        try:
            return json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}

    def get_password(self, service: str, username: str) -> str | None:
        return self._read().get(f"{service}/{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        values = self._read()
        values[f"{service}/{username}"] = password
        self.path.write_text(json.dumps(values))

    def delete_password(self, service: str, username: str) -> None:
        values = self._read()
        if values.pop(f"{service}/{username}", None) is None:
            raise PasswordDeleteError("not found")
        self.path.write_text(json.dumps(values))


class HangingKeyring(KeyringBackend):
    """A keyring whose every call blocks until ``release`` is set: a hung D-Bus."""

    priority = TEST_PRIORITY  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()
        self.calls = 0

    def _hang(self) -> None:
        self.calls += 1
        self.release.wait(60)

    def get_password(self, service: str, username: str) -> str | None:
        self._hang()
        return None

    def set_password(self, service: str, username: str, password: str) -> None:
        self._hang()

    def delete_password(self, service: str, username: str) -> None:
        self._hang()


class BrokenKeyring(KeyringBackend):
    """A keyring whose calls fail, like a locked collection refusing access."""

    priority = TEST_PRIORITY  # type: ignore[assignment]

    def get_password(self, service: str, username: str) -> str | None:
        raise RuntimeError("the collection is locked")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise RuntimeError("the collection is locked")

    def delete_password(self, service: str, username: str) -> None:
        raise RuntimeError("the collection is locked")
