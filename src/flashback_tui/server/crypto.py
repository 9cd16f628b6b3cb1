"""Sealing configuration secrets with AES-256-GCM, key ids, and the master keyring.

A sealed value is ``nonce (12 bytes) || ciphertext+tag`` plus the id of the key that sealed
it. Each seal draws a fresh 96-bit nonce and binds the ciphertext to its row and field with
associated data, so a ciphertext copied into another row fails to open.

The master keys come from ``FLASHBACK_MASTER_KEY`` (base64 of 32 bytes; several separated by
commas, the first one sealing and the others only opening) or from the key file
``master.key`` in the data dir (mode 0600, created on first start). The key file is a small
JSON keyring: the current key id and the keys still kept, oldest first. ``admin rotate-key``
adds a new key, re-seals everything under it and then retires the old keys (crypto-shredding:
a copy of an old ciphertext, wherever it survived, can no longer be opened). Plaintexts and
keys never appear in exception messages.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import json
import os
import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

KEY_FILENAME = "master.key"
MASTER_KEY_ENV = "FLASHBACK_MASTER_KEY"
KEY_BYTES = 32
NONCE_BYTES = 12


class CryptoError(Exception):
    """A secret could not be opened or the key material is unusable (never carries secrets)."""


@dataclass(frozen=True)
class Sealed:
    """A sealed value as stored: the key id and ``nonce || ciphertext``."""

    kid: str
    blob: bytes


def key_id(key: bytes) -> str:
    """A short public identifier of a key (not reversible to the key)."""
    return hashlib.sha256(b"flashback-key-id:" + key).hexdigest()[:16]


def associated_data(row_id: str, field: str) -> bytes:
    """Associated data binding a ciphertext to one configuration and one field."""
    return f"ai_llm:{row_id}:{field}".encode()


def new_master_key() -> str:
    """A fresh random master key, as ``FLASHBACK_MASTER_KEY`` holds it (base64)."""
    return _b64(secrets.token_bytes(KEY_BYTES))


def parse_master_keys(text: str) -> list[bytes]:
    """Decode ``FLASHBACK_MASTER_KEY``: one base64 key, or several separated by commas."""
    keys = [parse_master_key(part) for part in text.split(",") if part.strip()]
    if not keys:
        raise CryptoError(f"{MASTER_KEY_ENV} is empty")
    return keys


@dataclass(frozen=True)
class KeyInfo:
    """One key of a keyring, as ``admin key status`` lists it."""

    kid: str
    source: str  # "file" or "env"
    current: bool


def parse_master_key(text: str) -> bytes:
    """Decode a base64 master key and check it is 32 bytes."""
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise CryptoError(f"{MASTER_KEY_ENV} is not valid base64") from None
    if len(key) != KEY_BYTES:
        raise CryptoError(f"{MASTER_KEY_ENV} must decode to {KEY_BYTES} bytes")
    return key


class Keyring:
    """The master keys of one data dir: the current one seals, any known one opens.

    The key file is re-read when it changes on disk, so a server keeps working while
    ``admin rotate-key`` runs in another process. ``key_file`` names another file than the
    data dir's ``master.key``; ``create=False`` never writes one (a keyring that only opens
    what another platform sealed). Without a data dir and a key file, the keys come from
    ``FLASHBACK_MASTER_KEY`` alone.
    """

    def __init__(self, data_dir: Path | None, *, env: Mapping[str, str] | None = None,
                 key_file: Path | None = None, create: bool = True) -> None:
        if key_file is not None:
            self.path: Path | None = Path(key_file)
        else:
            self.path = Path(data_dir) / KEY_FILENAME if data_dir is not None else None
        environ = os.environ if env is None else env
        self._env_keys = parse_master_keys(environ[MASTER_KEY_ENV]) if environ.get(
            MASTER_KEY_ENV
        ) else []
        self._lock = threading.Lock()
        self._keys: dict[str, bytes] = {}
        self._current: str | None = None
        self._stamp: tuple[int, int] | None = None
        self._load(create=create)

    @property
    def key_source(self) -> str:
        """Where the current key comes from: the variable's name or the key file's path."""
        return MASTER_KEY_ENV if self._env_keys else str(self.path)

    # -- key file --------------------------------------------------------------------------

    @property
    def from_env(self) -> bool:
        """True when the current key comes from FLASHBACK_MASTER_KEY."""
        return bool(self._env_keys)

    @property
    def current_kid(self) -> str:
        """The id of the key that seals new values."""
        self._refresh()
        assert self._current is not None
        return self._current

    def _file_stamp(self) -> tuple[int, int] | None:
        if self.path is None:
            return None
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return None
        return (st.st_mtime_ns, st.st_size)

    def _load(self, *, create: bool) -> None:
        with self._lock:
            stamp = self._file_stamp()
            if stamp is None and create and not self._env_keys and self.path is not None:
                _write_key_file(self.path, {"current": None, "keys": {}}, new_key=True)
                stamp = self._file_stamp()
            keys: dict[str, bytes] = {}
            current: str | None = None
            if stamp is not None:
                current, keys = _read_key_file(self.path)
            for env_key in reversed(self._env_keys):  # the first one ends up current
                current = key_id(env_key)
                keys[current] = env_key
            if stamp is None and not keys:
                raise CryptoError(f"no master key: there is no key file and {MASTER_KEY_ENV}"
                                  " is not set")
            if current is None or current not in keys:
                raise CryptoError(f"the key file {self.path} has no usable current key; "
                                  f"give the key in {MASTER_KEY_ENV}")
            self._keys, self._current, self._stamp = keys, current, stamp

    def _refresh(self) -> None:
        if self._file_stamp() != self._stamp:
            self._load(create=False)

    def rotate(self) -> str:
        """Add a fresh key to the key file, make it current, and return its id."""
        if self._env_keys:
            raise CryptoError(
                f"the master key comes from {MASTER_KEY_ENV}: put a new key first in it "
                "(the old one after a comma) and re-seal"
            )
        with self._lock:
            _, keys = _read_key_file(self.path)
            new_key = secrets.token_bytes(KEY_BYTES)
            kid = key_id(new_key)
            keys[kid] = new_key
            _write_key_file(
                self.path,
                {"current": kid, "keys": {k: _b64(v) for k, v in keys.items()}},
                new_key=False,
            )
            self._keys, self._current, self._stamp = keys, kid, self._file_stamp()
        return kid

    def keys(self) -> list[KeyInfo]:
        """Every key this keyring can open with, the current one first, then newest first."""
        self._refresh()
        env_kids = {key_id(k) for k in self._env_keys}
        ordered = [self.current_kid] + [k for k in reversed(self._keys) if k != self._current]
        return [KeyInfo(kid=k, source="env" if k in env_kids else "file",
                        current=k == self._current) for k in ordered]

    def retire(self, keep: set[str]) -> list[str]:
        """Remove from the key file every key but the current one and ``keep``.

        Returns the ids removed. Keys given by the environment cannot be removed here (the
        operator drops them from ``FLASHBACK_MASTER_KEY``); the key file's own are gone for
        good once this returns.
        """
        with self._lock:
            if self._file_stamp() is None:
                return []
            current, file_keys = _read_key_file(self.path)
            keep = set(keep) | {self._current or "", current or ""}
            removed = [kid for kid in file_keys if kid not in keep]
            if not removed:
                return []
            kept = {kid: key for kid, key in file_keys.items() if kid in keep}
            file_current = current if current in kept else None
            _write_key_file(self.path, {"current": file_current,
                                        "keys": {k: _b64(v) for k, v in kept.items()}},
                            new_key=False)
            for kid in removed:
                if kid not in {key_id(k) for k in self._env_keys}:
                    self._keys.pop(kid, None)
            self._stamp = self._file_stamp()
        return removed

    # -- sealing ---------------------------------------------------------------------------

    def seal(self, plaintext: str, *, aad: bytes) -> Sealed:
        """Encrypt under the current key with a fresh nonce."""
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        self._refresh()
        with self._lock:  # the current id and its key, from one consistent keyring
            kid = self._current
            assert kid is not None
            key = self._keys[kid]
        nonce = secrets.token_bytes(NONCE_BYTES)
        blob = nonce + AESGCM(key).encrypt(nonce, plaintext.encode(), aad)
        return Sealed(kid=kid, blob=blob)

    def open(self, sealed: Sealed, *, aad: bytes) -> str:
        """Decrypt; raise CryptoError (without any detail of the value) on any failure."""
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        key = self._keys.get(sealed.kid)
        if key is None:
            self._refresh()
            key = self._keys.get(sealed.kid)
        if key is None:
            raise CryptoError(f"unknown key id {sealed.kid}")
        if len(sealed.blob) < NONCE_BYTES + 16:
            raise CryptoError("sealed value is truncated")
        nonce, body = sealed.blob[:NONCE_BYTES], sealed.blob[NONCE_BYTES:]
        try:
            return AESGCM(key).decrypt(nonce, body, aad).decode()
        except InvalidTag:
            raise CryptoError("sealed value failed authentication") from None


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def _read_key_file(path: Path) -> tuple[str | None, dict[str, bytes]]:
    try:
        data = json.loads(path.read_text())
        keys = {kid: base64.b64decode(b64) for kid, b64 in data["keys"].items()}
        current = data["current"]
    except (OSError, ValueError, KeyError, TypeError, binascii.Error):
        raise CryptoError(f"the key file {path} is unreadable or damaged") from None
    if any(len(k) != KEY_BYTES for k in keys.values()):
        raise CryptoError(f"the key file {path} holds a key of the wrong size")
    return current, keys


def _write_key_file(path: Path, data: dict, *, new_key: bool) -> None:
    """Write the key file atomically with mode 0600 (a new file gets one fresh key)."""
    if new_key:
        key = secrets.token_bytes(KEY_BYTES)
        data = {"current": key_id(key), "keys": {key_id(key): _b64(key)}}
    payload = json.dumps({"version": 1, **data}, indent=1).encode()
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        if new_key:  # create only if absent: a racing process's file wins
            with contextlib.suppress(FileExistsError):
                os.link(tmp, path)
        else:
            os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
