"""Operations on a whole platform: schema migration, key rotation with retirement, key status,
backup, restore.

They work while the platform serves: rotation re-seals in one write transaction and retires
the old keys only once nothing is sealed under them; a backup is a consistent online copy
through SQLite's backup API; a restore writes the copy back through the same API, so a
running server sees the restored data at its next read. A backup never contains the master
key (it lives in ``master.key`` or in ``FLASHBACK_MASTER_KEY``, never in the database):
keep the key apart from the backups, or anyone with both can open every secret.

Backup and restore are SQLite's; on PostgreSQL, ``pg_dump`` (or ``admin copy`` into a
``sqlite:///`` file) does that work. Rotation and key status work on both.
"""

from __future__ import annotations

import dataclasses
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from flashback_tui.server.crypto import CryptoError, KeyInfo, Keyring, Sealed, associated_data
from flashback_tui.server.db import connect_sqlite
from flashback_tui.server.sql import SQLITE, Conn, fold_wal, transaction
from flashback_tui.server.state import PlatformState, open_database
from flashback_tui.server.store import ai_llms as llm_store
from flashback_tui.server.store import sealed as sealed_store


class MaintenanceError(Exception):
    """An operation that cannot be done as asked; the message says why and what to do."""


@dataclass(frozen=True)
class Rotation:
    """What ``admin rotate-key`` did."""

    new_kid: str
    resealed: int
    retired: list[str]
    kept: list[str]
    #: Keys of ``FLASHBACK_MASTER_KEY`` besides the first, which now seal nothing: the
    #: operator drops them from the variable.
    unused_env: list[str] = dataclasses.field(default_factory=list)


@dataclass(frozen=True)
class KeyStatus:
    """One key and how many sealed values it seals."""

    info: KeyInfo
    seals: int


@dataclass(frozen=True)
class Migration:
    """What ``admin migrate`` did: the schema revision before (None: empty) and after."""

    before: str | None
    after: str


def migrate(data_dir: Path, *, database_url: str | None = None,
            env: dict[str, str] | None = None) -> Migration:
    """Bring the schema to the newest revision (safe while replicas serve: one transaction
    under the write lock). Needs no master key and creates no rows."""
    from flashback_tui.server.migrations import upgrade_from

    db = open_database(data_dir, env=env, database_url=database_url)
    try:
        before, after = upgrade_from(db.conn())
    finally:
        db.close()
    return Migration(before=before, after=after)


def rotate_key(data_dir: Path, *, keep_old: int = 0, env: dict[str, str] | None = None
               ) -> Rotation:
    """Seal everything under a new key, then retire all but the ``keep_old`` newest old keys.

    With the key file, a fresh key is added and made current. With ``FLASHBACK_MASTER_KEY``
    the first key listed is the new one: everything is re-sealed under it, and the key file's
    keys are retired (the operator then drops old keys from the variable).

    Replicas of one PostgreSQL database keep serving throughout: the re-seal is one write
    transaction, they read the old ciphertexts until it commits and the new ones after (the
    data version it bumps makes their gateways read the secrets again). For that, every
    replica must already hold the new key: the operator lists ``NEW,OLD`` in
    ``FLASHBACK_MASTER_KEY`` on every replica (a rolling restart), runs this, then lists
    ``NEW`` alone (another rolling restart). A replica restarted with ``NEW,OLD`` seals the
    secrets it writes under NEW at once; when secrets may be written while the restart rolls,
    list ``OLD,NEW`` first (every replica learns NEW and still seals under OLD), then
    ``NEW,OLD``, so no replica ever meets a key it lacks.
    """
    if keep_old < 0:
        raise MaintenanceError("--keep-old must be 0 or more")
    with PlatformState.open(data_dir, env=env) as state:
        keyring = state.keyring
        if not keyring.from_env:
            keyring.rotate()
        conn = state.db.conn()
        resealed = llm_store.reseal_all(conn, keyring)
        old = [k.kid for k in keyring.keys() if not k.current and k.source == "file"]
        kept = old[:keep_old]
        retired = _retire(conn, keyring, keep=set(kept))
        unused_env = [k.kid for k in keyring.keys() if not k.current and k.source == "env"]
        return Rotation(new_kid=keyring.current_kid, resealed=resealed, retired=retired,
                        kept=kept, unused_env=unused_env)


def _retire(conn: Conn, keyring: Keyring, keep: set[str]) -> list[str]:
    """Retire keys while holding the write lock, so nothing new gets sealed under them."""
    with transaction(conn):
        counts = sealed_store.counts_by_key(conn)
        still_used = {kid for kid, n in counts.items() if n and kid != keyring.current_kid}
        if still_used - keep:
            raise MaintenanceError("some secrets are still sealed under an old key; "
                                   "run admin rotate-key again")
        removed = keyring.retire(keep)
    if conn.dialect == SQLITE:
        fold_wal(conn, timeout_ms=5_000)
    return removed


def key_status(data_dir: Path, *, env: dict[str, str] | None = None) -> list[KeyStatus]:
    """Every key in use or kept, the current one first, with the number of values it seals."""
    with PlatformState.open(data_dir, env=env) as state:
        counts = sealed_store.counts_by_key(state.db.conn())
        return [KeyStatus(info=info, seals=counts.get(info.kid, 0))
                for info in state.keyring.keys()]


def backup(data_dir: Path, target: Path, *, env: dict[str, str] | None = None) -> int:
    """Copy the database to ``target`` online and consistently; returns its size in bytes.

    ``target`` must not exist (a backup never overwrites anything). It holds the sealed
    secrets but never the key that opens them.
    """
    target = Path(target)
    if target.exists():
        raise MaintenanceError(f"{target} already exists; give a new file name")
    with PlatformState.open(data_dir, env=env) as state:
        _sqlite_only(state, "backup")
        dest = sqlite3.connect(target)
        try:
            state.db.conn().raw.backup(dest)
            dest.execute("PRAGMA journal_mode = DELETE")
        finally:
            dest.close()
    target.chmod(0o600)
    return target.stat().st_size


def _sqlite_only(state: PlatformState, what: str) -> None:
    if state.db.dialect != SQLITE:
        raise MaintenanceError(f"{what} works on a SQLite data dir; on PostgreSQL use pg_dump,"
                               " or admin copy --to sqlite:///path/to/file.db")


def _check_opens(source: sqlite3.Connection, keyring: Keyring) -> int:
    """Open every sealed value of a backup with ``keyring``; the number opened."""
    opened = 0
    rows = source.execute("SELECT id, key_kid, key_blob, secret_kid, secret_blob FROM ai_llms")
    for llm_id, *sealed in rows:
        for field, kid, blob in (("key", sealed[0], sealed[1]), ("secret", sealed[2], sealed[3])):
            if kid is None or blob is None:
                continue
            try:
                keyring.open(Sealed(kid, bytes(blob)), aad=associated_data(llm_id, field))
            except CryptoError:
                raise MaintenanceError(
                    f"the backup holds secrets sealed under key {kid}, which the keys at hand"
                    " cannot open; restore with the master key of the backup's time") from None
            opened += 1
    return opened


def restore(data_dir: Path, source_file: Path, *, env: dict[str, str] | None = None) -> int:
    """Replace the data dir's database with a backup after checking its secrets open.

    Returns the number of sealed values checked. The live database is overwritten in one
    step through the backup API (a running server sees the restored data).
    """
    source_file = Path(source_file)
    if not source_file.is_file():
        raise MaintenanceError(f"{source_file} is not a file")
    try:
        source = sqlite3.connect(f"file:{source_file}?mode=ro", uri=True)
        source.execute("SELECT COUNT(*) FROM ai_llms").fetchone()
    except sqlite3.DatabaseError:
        raise MaintenanceError(f"{source_file} is not a flashback-tui backup") from None
    try:
        with PlatformState.open(data_dir, env=env) as state:
            _sqlite_only(state, "restore")
            opened = _check_opens(source, state.keyring)
            live = connect_sqlite(state.db.path)
            try:
                source.backup(live)
            finally:
                live.close()
            fold_wal(state.db.conn(), timeout_ms=5_000)
            state.db.migrate()  # a backup from an older version gets the current schema
    finally:
        source.close()
    return opened
