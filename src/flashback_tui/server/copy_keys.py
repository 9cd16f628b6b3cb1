"""The master keys of both sides of ``admin copy``, and re-sealing secrets between them.

The source's keys only open: they come from its key file (by default the ``master.key``
beside a ``sqlite:///`` source) and from a variable (``FLASHBACK_MASTER_KEY`` unless told
otherwise); nothing is ever written beside the source. The destination's current key seals:
a PostgreSQL destination's comes from the variable (its replicas will have the same one), a
SQLite destination's from the variable when it is set, else from the ``master.key`` beside
the file (made there if missing), as a platform serving that file would have it.

A value already sealed under the destination's current key is copied as it is; any other is
opened and sealed again. Each sealed value is bound to its configuration id and field
(:func:`crypto.associated_data`), which the copy keeps, so both seals bind the same row.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from flashback_tui.server.crypto import KEY_FILENAME, MASTER_KEY_ENV, CryptoError, Keyring
from flashback_tui.server.store.llm_credentials import open_sealed, seal

#: The sealed fields of a configuration (``<field>_kid`` and ``<field>_blob`` columns).
SEALED_FIELDS = ("key", "secret")


class CopyKeyError(Exception):
    """A side's master keys are missing or do not open its secrets (the message says which)."""


@dataclass(frozen=True)
class KeySource:
    """Where one side's master keys come from: a variable, and a key file for the source."""

    env_name: str | None = MASTER_KEY_ENV
    key_file: Path | None = None

    def env(self, environ: Mapping[str, str]) -> dict[str, str]:
        """The keys in the form :class:`Keyring` reads (``FLASHBACK_MASTER_KEY``)."""
        value = environ.get(self.env_name, "").strip() if self.env_name else ""
        return {MASTER_KEY_ENV: value} if value else {}


def source_keyring(spec: KeySource, sqlite_file: Path | None,
                   environ: Mapping[str, str]) -> Keyring:
    """The keys that open the source's secrets (never creates a key file)."""
    key_file = spec.key_file
    if key_file is None and sqlite_file is not None:
        key_file = sqlite_file.parent / KEY_FILENAME
    try:
        return Keyring(None, env=spec.env(environ), key_file=key_file, create=False)
    except CryptoError as exc:
        raise CopyKeyError(f"the source's secrets need its master key ({exc}): name its key "
                           "file with --from-key-file or the variable that holds it with "
                           "--from-key-env") from None


def destination_keyring(spec: KeySource, sqlite_file: Path | None,
                        environ: Mapping[str, str]) -> Keyring:
    """The keys the destination seals with (its replicas' variable, or its key file)."""
    env = spec.env(environ)
    if sqlite_file is None and not env:
        raise CopyKeyError(
            f"a PostgreSQL destination seals its secrets under the key in "
            f"{spec.env_name or MASTER_KEY_ENV}, the one its replicas will have; set it "
            "(`flashback-tui admin key new` makes one) or name another with --to-key-env")
    try:
        return Keyring(sqlite_file.parent if sqlite_file is not None else None, env=env,
                       create=sqlite_file is not None)
    except CryptoError as exc:
        raise CopyKeyError(f"the destination's master key is unusable: {exc}") from None


class Resealer:
    """Moves the sealed values of configuration rows from the source's keys to the
    destination's; the keyrings are made on first need (a platform without secrets needs
    none)."""

    def __init__(self, source: KeySource, destination: KeySource, *,
                 source_file: Path | None, destination_file: Path | None,
                 environ: Mapping[str, str] | None = None) -> None:
        self._specs = (source, destination)
        self._files = (source_file, destination_file)
        self._environ = os.environ if environ is None else environ
        self._opener: Keyring | None = None
        self._sealer: Keyring | None = None
        #: Values sealed again, and values copied as they were (already under the key).
        self.resealed = 0
        self.kept = 0

    @property
    def sealer(self) -> Keyring | None:
        """The destination's keyring, once a value needed it."""
        return self._sealer

    def row(self, names: Sequence[str], row: Sequence[Any]) -> tuple[Any, ...]:
        """A configuration row with each sealed value under the destination's current key."""
        values = dict(zip(names, row, strict=True))
        for field in SEALED_FIELDS:
            kid, blob = values[f"{field}_kid"], values[f"{field}_blob"]
            if kid is None or blob is None:
                continue
            values[f"{field}_kid"], values[f"{field}_blob"] = self._move(
                str(kid), bytes(blob), str(values["id"]), field)
        return tuple(values[name] for name in names)

    def _move(self, kid: str, blob: bytes, row_id: str, field: str) -> tuple[str, bytes]:
        sealer = self._destination()
        if kid == sealer.current_kid:
            self.kept += 1
            return kid, blob
        try:
            plain: SecretStr | None = open_sealed(self._source(), kid, blob, row_id, field)
        except CryptoError:
            raise CopyKeyError(
                f"a secret of the source is sealed under key {kid}, which the source's keys "
                "at hand do not open; name the right key file (--from-key-file) or variable "
                "(--from-key-env)") from None
        new_kid, new_blob = seal(sealer, plain, row_id, field)
        self.resealed += 1
        assert new_kid is not None and new_blob is not None
        return new_kid, new_blob

    def _source(self) -> Keyring:
        if self._opener is None:
            self._opener = source_keyring(self._specs[0], self._files[0], self._environ)
        return self._opener

    def _destination(self) -> Keyring:
        if self._sealer is None:
            self._sealer = destination_keyring(self._specs[1], self._files[1], self._environ)
        return self._sealer
