"""Last-known lists: what the configuration list showed, kept for the next start.

After a live list the TUI saves a :class:`Snapshot` per profile, platform, user and
workspace (``None``: all workspaces) in the user cache directory
(:func:`flashback_tui.paths.snapshot_dir`); the next start paints it at once, marked as
cached, until the live answer replaces it. Only display fields are kept (names, types,
endpoints, masked keys, repository names, status and its time): never a secret, never a
token.

Each snapshot is one file named after a digest of its :class:`SnapshotKey`, written
atomically (a new 0600 file, fsync, ``os.replace``) in a 0700 directory (the layout is in
:mod:`flashback_tui.snapshot_file`). The file also names the profile, URL, user and
workspace it belongs to, and :meth:`SnapshotStore.load` checks them: a snapshot of another
user or platform is never returned. A file that cannot be read, is damaged or has another
format version is ignored and deleted; loading never raises.

Loading is cheap enough for the first frame: standard library only (no pydantic), rows kept
as JSON arrays and read back as named tuples (10,000 rows in a few tens of milliseconds).
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from flashback_tui import snapshot_file
from flashback_tui.domain.status import ConfigState, ConfigStatus, config_status
from flashback_tui.snapshot_file import FORMAT, VERSION

if TYPE_CHECKING:
    from flashback_tui.api.models import AiLlm

__all__ = [
    "FORMAT",
    "VERSION",
    "Snapshot",
    "SnapshotKey",
    "SnapshotRow",
    "SnapshotStore",
    "describe_age",
    "masked_key",
    "rows_from_llms",
]

log = logging.getLogger(__name__)

SNAPSHOT_SUFFIX = ".json"
LATEST_SUFFIX = ".latest"
#: An unchanged list is rewritten at most this often (seconds): only its time would change.
DEFAULT_REWRITE_INTERVAL = 60.0


class SnapshotRow(NamedTuple):
    """One configuration as the list showed it: display fields only, never a secret.

    A named tuple rather than a dataclass: immutable all the same, and five times cheaper
    to build, which counts when 10,000 rows are read for the first frame.
    """

    id: str
    name: str
    workspace_id: str
    ai_type: str
    endpoint: str | None
    #: The key as the platform masked it (``****abcd``), or None.
    key: str | None
    #: Names of the repositories that use it; None when the platform did not say.
    repos: tuple[str, ...] | None
    #: ISO 8601 creation time, or None.
    created_at: str | None
    #: A :class:`~flashback_tui.domain.status.ConfigState` value.
    status: str
    status_message: str
    #: When that status was established (Unix seconds), if known.
    status_at: float | None

    @property
    def state(self) -> ConfigState:
        """The status as a ConfigState (UNKNOWN for a value this version does not know)."""
        try:
            return ConfigState(self.status)
        except ValueError:
            return ConfigState.UNKNOWN

    def config_status(self) -> ConfigStatus:
        """The status in the shape :func:`~flashback_tui.domain.status.config_status` gives."""
        return ConfigStatus(self.state, self.status_message, "snapshot")


FIELDS = SnapshotRow._fields


@dataclass(frozen=True)
class SnapshotKey:
    """Whose list a snapshot is: profile, platform, signed-in user and workspace.

    ``url`` is the platform's base URL, or for the embedded platform ``embedded:`` plus its
    data dir (its loopback port changes at every start). ``user`` names the signed-in user
    (see :func:`flashback_tui.connect.snapshot_key`). ``workspace`` is a workspace id, or
    None for the list of all workspaces.
    """

    profile: str
    url: str
    user: str
    workspace: str | None = None

    def with_workspace(self, workspace: str | None) -> SnapshotKey:
        """The same profile, platform and user, another workspace."""
        return SnapshotKey(self.profile, self.url, self.user, workspace)

    def stem(self) -> str:
        """The snapshot file's name without its suffix."""
        return _digest(self.profile, self.url, self.user, self.workspace)

    def identity_stem(self) -> str:
        """The name of the file that points at this user's latest snapshot."""
        return _digest(self.profile, self.url, self.user)

    def matches(self, data: Mapping[str, Any], *, workspace: bool = True) -> bool:
        """Whether a file's recorded owner is this key (its workspace too, if asked)."""
        same = (data.get("profile") == self.profile and data.get("url") == self.url
                and data.get("user") == self.user)
        return same and (not workspace or data.get("workspace") == self.workspace)


def _digest(*parts: str | None) -> str:
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:40]


@dataclass(frozen=True)
class Snapshot:
    """A saved list: its rows, when the live answer they come from arrived, and its age."""

    key: SnapshotKey
    rows: tuple[SnapshotRow, ...]
    #: When the live list was taken (Unix seconds).
    taken_at: float
    #: Seconds between ``taken_at`` and the load (never negative).
    age: float
    workspace_name: str = ""


def describe_age(seconds: float) -> str:
    """``just now``, ``42 s ago``, ``3 min ago``, ``5 h ago`` or ``2 days ago``."""
    seconds = max(0.0, seconds)
    if seconds < 5:
        return "just now"
    if seconds < 60:
        return f"{int(seconds)} s ago"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h ago"
    days = int(seconds // 86400)
    return f"{days} day{'s' if days != 1 else ''} ago"


# ---------------------------------------------------------------------------------------------
# Rows from wire models
# ---------------------------------------------------------------------------------------------


def masked_key(key: str | None) -> str | None:
    """The key as the platform masks it (``****`` + at most 4 characters), kept as it is when
    it is already masked that way, masked again otherwise (a platform that sent a key in
    full must not put it in the cache)."""
    if not key:
        return None
    if key.startswith("****") and len(key) <= 8:
        return key
    return "****" + (key[-4:] if len(key) >= 12 else "")


def rows_from_llms(
    llms: Iterable[AiLlm],
    statuses: Mapping[str, ConfigStatus] | None = None,
    *,
    status_times: Mapping[str, float] | None = None,
) -> tuple[SnapshotRow, ...]:
    """The rows of a snapshot, from ``AiLlm`` wire models.

    ``statuses`` maps configuration ids to the status the list shows (the TUI's
    ``config_status`` results, session verdicts included); a configuration missing from it
    gets :func:`~flashback_tui.domain.status.config_status` of its own fields.
    ``status_times`` gives when a status was established (Unix seconds); without one, the
    platform's ``validatedAt`` is used for a status that came from the platform.
    """
    statuses = statuses or {}
    status_times = status_times or {}
    rows = []
    for llm in llms:
        status = statuses.get(llm.id) or config_status(llm)
        at = status_times.get(llm.id)
        if at is None and status.source == "platform" and llm.validated_at is not None:
            at = llm.validated_at.timestamp()
        repos = None if llm.repos is None else tuple(repo.name for repo in llm.repos)
        created = llm.created_at.isoformat() if llm.created_at is not None else None
        rows.append(SnapshotRow(
            llm.id, llm.name, llm.workspace_id, str(llm.ai_type), llm.endpoint,
            masked_key(llm.key), repos, created, str(status.state), status.message,
            None if at is None else float(at),
        ))
    return tuple(rows)


# ---------------------------------------------------------------------------------------------
# The store
# ---------------------------------------------------------------------------------------------


class SnapshotStore:
    """Snapshots in one private directory (default: :func:`paths.snapshot_dir`).

    Safe to use from several threads and processes: writes are atomic, and the last one
    wins. ``save`` does file I/O: call it off the event loop (``asyncio.to_thread``) for big
    lists. ``clock`` is the wall clock (Unix seconds) used for ages and default times.
    """

    def __init__(
        self,
        directory: str | os.PathLike[str] | None = None,
        *,
        clock: Callable[[], float] = time.time,
        rewrite_interval: float = DEFAULT_REWRITE_INTERVAL,
    ) -> None:
        if directory is None:
            from flashback_tui.paths import snapshot_dir

            directory = snapshot_dir()
        self.directory = Path(directory)
        self._clock = clock
        self._rewrite_interval = rewrite_interval
        self._written: dict[str, tuple[int, float]] = {}

    # -- writing ----------------------------------------------------------------------------

    def save(
        self,
        key: SnapshotKey,
        rows: Iterable[SnapshotRow],
        taken_at: float | None = None,
        *,
        workspace_name: str = "",
    ) -> bool:
        """Keep ``rows`` as the list of ``key`` taken at ``taken_at`` (default: now).

        Returns whether the file was written: an unchanged list saved again within the
        rewrite interval is not (only its time would change), nor is one the disk refused
        (the failure is logged; caching never breaks the caller). Rows that are not shaped
        as :class:`SnapshotRow` raise ValueError.
        """
        rows = tuple(rows)
        taken = self._clock() if taken_at is None else float(taken_at)
        stem = key.stem()
        fingerprint = hash((rows, workspace_name))
        previous = self._written.get(stem)
        if previous is not None and previous[0] == fingerprint and (
                0 <= taken - previous[1] < self._rewrite_interval):
            return False
        try:
            self._write(key, rows, taken, workspace_name)
        except OSError as exc:
            log.warning("could not keep the list in %s: %s", self.directory,
                        exc.strerror or type(exc).__name__)
            return False
        self._written[stem] = (fingerprint, taken)
        return True

    def _write(self, key: SnapshotKey, rows: tuple[SnapshotRow, ...], taken: float,
               workspace_name: str) -> None:
        owner = _owner(key)
        header = {**owner, "workspaceName": workspace_name, "takenAt": taken,
                  "fields": list(FIELDS)}
        data = snapshot_file.encode(header, rows, len(FIELDS))
        self._ensure_directory()
        snapshot_file.write_private(self.directory / f"{key.stem()}{SNAPSHOT_SUFFIX}", data)
        pointer = json.dumps(owner, separators=(",", ":")).encode()
        snapshot_file.write_private(self.directory / f"{key.identity_stem()}{LATEST_SUFFIX}",
                                    pointer)

    def _ensure_directory(self) -> None:
        """The directory (and a cache dir it creates) exists with mode 0700."""
        missing = [p for p in (self.directory.parent, self.directory) if not p.exists()]
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        for path in {*missing, self.directory}:
            if os.name == "posix" and path.stat().st_mode & 0o777 != 0o700:
                os.chmod(path, 0o700)

    # -- reading ----------------------------------------------------------------------------

    def load(self, key: SnapshotKey) -> Snapshot | None:
        """The snapshot of ``key``, or None (none kept, or one that is not usable, which is
        deleted). Never raises."""
        path = self.directory / f"{key.stem()}{SNAPSHOT_SUFFIX}"
        try:
            data = snapshot_file.read_private(path)
            return None if data is None else _parse(data, key, self._clock())
        except snapshot_file.BadSnapshot:
            snapshot_file.discard(path)
            return None

    def load_latest(self, key: SnapshotKey) -> Snapshot | None:
        """The last snapshot saved for key's profile, URL and user, whatever its workspace
        (the list to paint in the first frame, before the workspaces are known)."""
        path = self.directory / f"{key.identity_stem()}{LATEST_SUFFIX}"
        try:
            data = snapshot_file.read_private(path)
            pointer = None if data is None else snapshot_file.parse_object(data)
        except snapshot_file.BadSnapshot:
            pointer = {}
        if pointer is None:
            return None
        workspace = pointer.get("workspace")
        if not (pointer.get("format") == FORMAT and pointer.get("version") == VERSION
                and key.matches(pointer, workspace=False)
                and (workspace is None or type(workspace) is str)):
            snapshot_file.discard(path)
            return None
        return self.load(key.with_workspace(workspace))

    # -- removing ---------------------------------------------------------------------------

    def forget(self, key: SnapshotKey) -> bool:
        """Remove the snapshot of ``key`` (e.g. its workspace is gone); False if none."""
        self._written.pop(key.stem(), None)
        try:
            (self.directory / f"{key.stem()}{SNAPSHOT_SUFFIX}").unlink()
        except FileNotFoundError:
            return False
        return True

    def clear(self) -> int:
        """Remove every snapshot (and leftovers); returns how many snapshots there were."""
        self._written.clear()
        try:
            entries = list(os.scandir(self.directory))
        except (FileNotFoundError, NotADirectoryError):
            return 0
        removed = 0
        for entry in entries:
            if not entry.name.endswith((SNAPSHOT_SUFFIX, LATEST_SUFFIX, ".tmp")):
                continue
            with contextlib.suppress(FileNotFoundError):
                os.unlink(entry.path)
                removed += entry.name.endswith(SNAPSHOT_SUFFIX)
        return removed


def _owner(key: SnapshotKey) -> dict[str, Any]:
    return {"format": FORMAT, "version": VERSION, "profile": key.profile, "url": key.url,
            "user": key.user, "workspace": key.workspace}


def _parse(data: bytes, key: SnapshotKey, now: float) -> Snapshot:
    """The snapshot in a file's bytes; BadSnapshot if it is another version, someone
    else's, or not the bytes written."""
    header, body = snapshot_file.decode_header(data)
    if not key.matches(header):
        raise snapshot_file.BadSnapshot("another owner")
    taken, name = header.get("takenAt"), header.get("workspaceName")
    if type(taken) not in (int, float) or type(name) is not str:
        raise snapshot_file.BadSnapshot("no time or workspace name")
    with _collector_paused():  # 100,000 new objects would set off collections for nothing
        raw_rows = snapshot_file.decode_rows(header, body, FIELDS)
        make = SnapshotRow._make
        rows = []
        for raw in raw_rows:  # checked when written; the digest says these are those bytes
            repos = raw[6]
            if repos is not None:
                raw[6] = tuple(repos)
            rows.append(make(raw))
    return Snapshot(key, tuple(rows), float(taken), max(0.0, now - taken), name)


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off for a moment (the objects built hold no cycles)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
