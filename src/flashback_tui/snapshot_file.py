"""The snapshot file: a header line naming its owner, then the rows, guarded by a digest.

A snapshot file is two lines of JSON::

    {"format": "flashback-tui/snapshot", "version": 1, "profile": ..., "url": ..., "user": ...,
     "workspace": ..., "workspaceName": ..., "takenAt": ..., "fields": [...], "count": N,
     "sha256": "<digest of the second line>"}
    [[row as an array, in "fields" order], ...]

The header is read first, so a file of another version or owner is rejected without parsing
its rows; the digest then proves the rows are the bytes written (not cut short, not garbled)
before they are parsed. Rows are checked for shape and types when they are written, so a
file that passes the digest needs no row-by-row check when it is read: that keeps a load of
10,000 rows within tens of milliseconds. Standard library only.

Files are replaced atomically (:func:`write_private`): a new 0600 file beside the old one,
fsync, ``os.replace``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

FORMAT = "flashback-tui/snapshot"
#: Bumped whenever the layout changes; files of another version are deleted on load.
VERSION = 1

_COMPACT = {"separators": (",", ":"), "ensure_ascii": False}


class BadSnapshot(ValueError):
    """A file that is not a usable snapshot of this version (it is deleted)."""


def encode(header: Mapping[str, Any], rows: Sequence[Sequence[Any]], width: int) -> bytes:
    """The file's bytes: ``header`` plus count and digest, then the rows (checked here)."""
    for row in rows:
        if not valid_row(row, width):
            raise BadSnapshot(f"a row is not shaped as a snapshot row: {type(row).__name__}")
    body = json.dumps(rows, **_COMPACT).encode()
    head = {**header, "count": len(rows), "sha256": hashlib.sha256(body).hexdigest()}
    return json.dumps(head, **_COMPACT).encode() + b"\n" + body


def decode_header(data: bytes) -> tuple[dict[str, Any], bytes]:
    """The header object and the bytes of the rows; BadSnapshot if it is not one."""
    head, newline, body = data.partition(b"\n")
    if not newline:
        raise BadSnapshot("no header line")
    header = parse_object(head)
    if header.get("format") != FORMAT or header.get("version") != VERSION:
        raise BadSnapshot("another format or version")
    return header, body


def decode_rows(header: Mapping[str, Any], body: bytes, fields: Sequence[str]) -> list[Any]:
    """The rows, once the digest and the header's field list and count match."""
    if header.get("fields") != list(fields):
        raise BadSnapshot("other fields")
    if header.get("sha256") != hashlib.sha256(body).hexdigest():
        raise BadSnapshot("the rows are not the bytes written")
    try:
        rows = json.loads(body)
    except (ValueError, RecursionError):
        raise BadSnapshot("rows are not JSON") from None
    if type(rows) is not list or len(rows) != header.get("count"):
        raise BadSnapshot("rows are not the list written")
    return rows


def parse_object(data: bytes) -> dict[str, Any]:
    """A JSON object, or BadSnapshot."""
    try:
        value = json.loads(data)
    except (ValueError, RecursionError):
        raise BadSnapshot("not JSON") from None
    if not isinstance(value, dict):
        raise BadSnapshot("not a JSON object")
    return value


def valid_row(row: Any, width: int) -> bool:
    """Whether a row has the width and types of a snapshot row (see ``SnapshotRow``)."""
    if not isinstance(row, list | tuple) or len(row) != width:
        return False
    ident, name, workspace, ai_type, endpoint, key, repos, created, status, message, at = row
    return (
        type(ident) is str and type(name) is str and type(workspace) is str
        and type(ai_type) is str and type(status) is str and type(message) is str
        and (endpoint is None or type(endpoint) is str)
        and (key is None or type(key) is str)
        and (created is None or type(created) is str)
        and (at is None or type(at) in (int, float))
        and (repos is None or (isinstance(repos, list | tuple)
                               and all(type(r) is str for r in repos)))
    )


def read_private(path: Path) -> bytes | None:
    """The file's bytes (links not followed); None if there is none; BadSnapshot if it
    cannot be read."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError:
        return None
    except OSError:
        raise BadSnapshot("cannot be opened") from None
    try:
        with os.fdopen(fd, "rb") as handle:
            return handle.read()
    except OSError:
        raise BadSnapshot("cannot be read") from None


def write_private(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically: a new 0600 file beside it (O_EXCL, never
    wider than 0600, not following links), fsync, then ``os.replace``. A reader sees the
    old file or the new one, never part of one."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, flags, 0o600)
    try:
        if os.name == "posix":
            os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        discard(tmp)
        raise


def discard(path: Path) -> None:
    """Delete a file that is not usable; failing to is not the caller's problem."""
    with contextlib.suppress(OSError):
        path.unlink()
