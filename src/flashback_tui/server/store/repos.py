"""SQL for repositories and the configurations linked to them. No web framework.

A repository belongs to one workspace; its storage fields (storage type, mode, buckets, wallet
address) are stored and echoed as given. Its AI links name configurations of the same
workspace. Its AI API keys live in :mod:`flashback_tui.server.store.repo_keys`; the gateway's
key lookup (:func:`route_for_digest`) lives here. Errors are :mod:`store.base` errors.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from flashback_tui.api.models import AiType
from flashback_tui.server.crypto import Keyring
from flashback_tui.server.sql import Conn, IntegrityError, Record, transaction
from flashback_tui.server.store import ai_llms as llm_store
from flashback_tui.server.store import events as event_store
from flashback_tui.server.store.base import (
    Conflict,
    Invalid,
    NotFound,
    is_unique_violation,
    new_id,
    now_iso,
)
from flashback_tui.server.store.events import Actor
from flashback_tui.server.store.repo_keys import (  # noqa: F401 - part of this module's API
    API_KEY_NOT_FOUND,
    ApiKeyRecord,
    IssuedApiKey,
    create_api_key,
    list_api_keys,
    rename_api_key,
    revoke_api_key,
    secret_digest,
)

REPO_NOT_FOUND = "repository not found"


class _Keep:
    """The type of :data:`KEEP`."""

    def __repr__(self) -> str:
        return "KEEP"


#: An update argument meaning "leave the stored value as it is".
KEEP: Final = _Keep()


@dataclass(frozen=True)
class RepoRecord:
    """A repository as read, with the ids of its linked configurations and its AI keys."""

    id: str
    workspace_id: str
    name: str
    storage_type: str
    mode: str
    created_at: str
    buckets: list[Any]
    wallet_address: str | None
    llm_ids: tuple[str, ...] = ()
    keys: tuple[ApiKeyRecord, ...] = ()


@dataclass(frozen=True)
class RepoFields:
    """What a create or update writes. ``KEEP`` (updates only) leaves a field as stored."""

    name: str
    storage_type: str
    mode: str
    llm_ids: Sequence[str] | _Keep = KEEP
    buckets: list[Any] | _Keep = KEEP
    wallet_address: str | _Keep | None = KEEP


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------


def _check_links(conn: Conn, workspace_id: str, llm_ids: Sequence[str]) -> None:
    """NotFound naming the first link that is unknown or in another workspace."""
    ids = list(dict.fromkeys(llm_ids))
    if not ids:
        return
    marks = ", ".join("?" for _ in ids)
    rows = conn.execute(f"SELECT id, workspace_id FROM ai_llms WHERE id IN ({marks})",  # noqa: S608
                        ids).fetchall()
    found = {r["id"]: r["workspace_id"] for r in rows}
    for index, llm_id in enumerate(llm_ids):
        if found.get(llm_id) != workspace_id:
            raise NotFound(f"repoAiLlms.{index}: no AI LLM configuration {llm_id} in this"
                           " workspace")


def _check_name_free(conn: Conn, workspace_id: str, name: str,
                     repo_id: str = "") -> None:
    """Conflict when another repository of the workspace has this name (any letter case)."""
    taken = conn.execute(
        "SELECT 1 FROM repos WHERE workspace_id = ? AND lower(name) = lower(?) AND id != ?",
        (workspace_id, name, repo_id),
    ).fetchone()
    if taken is not None:
        raise Conflict(f"name: a repository named {name!r} already exists in this workspace")


def _replace_links(conn: Conn, repo_id: str, llm_ids: Sequence[str],
                   now: str) -> bool:
    """Make the repository's links exactly ``llm_ids``; whether they changed."""
    wanted = list(dict.fromkeys(llm_ids))
    current = {r[0] for r in conn.execute(
        "SELECT ai_llm_id FROM repo_ai_llms WHERE repo_id = ?", (repo_id,))}
    if current == set(wanted):
        return False
    removed = current - set(wanted)
    conn.executemany("DELETE FROM repo_ai_llms WHERE repo_id = ? AND ai_llm_id = ?",
                     [(repo_id, llm_id) for llm_id in removed])
    conn.executemany(
        "INSERT INTO repo_ai_llms (repo_id, ai_llm_id, created_at) VALUES (?, ?, ?)"
        " ON CONFLICT DO NOTHING",
        [(repo_id, llm_id, now) for llm_id in wanted if llm_id not in current])
    return True


def _org_of(conn: Conn, workspace_id: str) -> str:
    row = conn.execute("SELECT org_id FROM workspaces WHERE id = ?", (workspace_id,)).fetchone()
    if row is None:
        raise NotFound("workspace not found")
    return row["org_id"]


def create_repo(conn: Conn, actor: Actor | None, *, workspace_id: str,
                fields: RepoFields) -> str:
    """Insert a repository with its links; Conflict on a name taken in the workspace."""
    repo_id = new_id()
    now = now_iso()
    llm_ids = [] if isinstance(fields.llm_ids, _Keep) else list(fields.llm_ids)
    buckets = [] if isinstance(fields.buckets, _Keep) else fields.buckets
    wallet = None if isinstance(fields.wallet_address, _Keep) else fields.wallet_address
    with transaction(conn):
        org_id = _org_of(conn, workspace_id)
        _check_links(conn, workspace_id, llm_ids)
        _check_name_free(conn, workspace_id, fields.name)
        try:
            conn.execute(
                "INSERT INTO repos (id, workspace_id, name, created_at, storage_type, mode,"
                " buckets_json, wallet_address, user_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (repo_id, workspace_id, fields.name, now, fields.storage_type, fields.mode,
                 json.dumps(buckets), wallet, actor.id if actor else None),
            )
        except IntegrityError as exc:
            if is_unique_violation(exc):
                raise Conflict(f"name: a repository named {fields.name!r} already exists in"
                               " this workspace") from None
            raise
        _replace_links(conn, repo_id, llm_ids, now)
        changed = ["name", "storageType", "mode", "workspaceId"]
        changed += [wire for wire, value in (("repoAiLlms", llm_ids), ("repoBuckets", buckets),
                                             ("walletAddress", wallet)) if value]
        event_store.record(conn, actor, context=event_store.REPO, context_id=repo_id,
                           event=event_store.CREATED, workspace_id=workspace_id,
                           changed=changed, org_id=org_id)
    return repo_id


def _changed_columns(row: Record, fields: RepoFields) -> dict[str, tuple[str, Any]]:
    """``{wire name: (column, new value)}`` of the stored fields that differ."""
    wanted: dict[str, tuple[str, Any]] = {
        "name": ("name", fields.name),
        "storageType": ("storage_type", fields.storage_type),
        "mode": ("mode", fields.mode),
    }
    if not isinstance(fields.buckets, _Keep):
        wanted["repoBuckets"] = ("buckets_json", json.dumps(fields.buckets))
    if not isinstance(fields.wallet_address, _Keep):
        wanted["walletAddress"] = ("wallet_address", fields.wallet_address)
    return {wire: (column, value) for wire, (column, value) in wanted.items()
            if row[column] != value}


def update_repo(conn: Conn, actor: Actor | None, repo_id: str, *,
                workspace_id: str, fields: RepoFields) -> list[str]:
    """Replace a repository's fields and (unless ``KEEP``) its links; the wire names changed.

    A repository stays in its workspace: another ``workspace_id`` is Invalid.
    """
    now = now_iso()
    with transaction(conn):
        row = conn.execute("SELECT * FROM repos WHERE id = ?", (repo_id,)).fetchone()
        if row is None:
            raise NotFound(REPO_NOT_FOUND)
        if row["workspace_id"] != workspace_id:
            raise Invalid("workspaceId: a repository cannot move to another workspace")
        if not isinstance(fields.llm_ids, _Keep):
            _check_links(conn, workspace_id, fields.llm_ids)
        changes = _changed_columns(row, fields)
        if "name" in changes:
            _check_name_free(conn, workspace_id, fields.name, repo_id)
        if changes:
            assignments = ", ".join(f"{column} = ?" for column, _ in changes.values())
            try:
                conn.execute(f"UPDATE repos SET {assignments} WHERE id = ?",  # noqa: S608
                             [*(value for _, value in changes.values()), repo_id])
            except IntegrityError as exc:
                if is_unique_violation(exc):
                    raise Conflict(f"name: a repository named {fields.name!r} already exists"
                                   " in this workspace") from None
                raise
        changed = list(changes)
        if not isinstance(fields.llm_ids, _Keep) and _replace_links(conn, repo_id,
                                                                     fields.llm_ids, now):
            changed.append("repoAiLlms")
        if changed:
            event_store.record(conn, actor, context=event_store.REPO, context_id=repo_id,
                               event=event_store.UPDATED, workspace_id=workspace_id,
                               changed=changed, org_id=_org_of(conn, workspace_id))
    return changed


def add_repo(conn: Conn, name: str, workspace_id: str, llm_id: str) -> str:
    """Create (or reuse) a repository by name in a workspace and link a configuration.

    For ``admin`` commands and tests: storage fields take their defaults (S3, NORMAL).
    """
    name = name.strip()
    if not name or len(name) > 255:
        raise Invalid("name: must be 1 to 255 characters")
    row = conn.execute("SELECT * FROM repos WHERE workspace_id = ? AND lower(name) = lower(?)",
                       (workspace_id, name)).fetchone()
    if row is None:
        return create_repo(conn, None, workspace_id=workspace_id,
                           fields=RepoFields(name=name, storage_type="S3", mode="NORMAL",
                                             llm_ids=[llm_id]))
    linked = [r[0] for r in conn.execute(
        "SELECT ai_llm_id FROM repo_ai_llms WHERE repo_id = ? ORDER BY created_at, rowid",
        (row["id"],))]
    update_repo(conn, None, row["id"], workspace_id=workspace_id,
                fields=RepoFields(name=row["name"], storage_type=row["storage_type"],
                                  mode=row["mode"], llm_ids=[*linked, llm_id]))
    return row["id"]


def delete_repo(conn: Conn, actor: Actor | None, repo_id: str) -> None:
    """Remove a repository, its links and its AI API keys (usage history stays)."""
    with transaction(conn):
        row = conn.execute("SELECT r.workspace_id, w.org_id FROM repos r JOIN workspaces w"
                           " ON w.id = r.workspace_id WHERE r.id = ?", (repo_id,)).fetchone()
        if row is None:
            raise NotFound(REPO_NOT_FOUND)
        conn.execute("DELETE FROM repos WHERE id = ?", (repo_id,))
        event_store.record(conn, actor, context=event_store.REPO, context_id=repo_id,
                           event=event_store.DELETED, workspace_id=row["workspace_id"],
                           org_id=row["org_id"])


# ---------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------


def repo_row(conn: Conn, repo_id: str) -> Record | None:
    """The raw row of a repository, or None."""
    return conn.execute("SELECT * FROM repos WHERE id = ?", (repo_id,)).fetchone()


def list_repos(conn: Conn, user_id: str, *, workspace_id: str | None = None,
               repo_id: str | None = None, wallet_address: str | None = None
               ) -> list[RepoRecord]:
    """Repositories in the user's workspaces, by name, each with its links and keys.

    Filters narrow by workspace, repository id and wallet address. Three queries in all,
    whatever the number of repositories.
    """
    where, params = ["m.user_id = ?"], [user_id]
    for column, value in (("r.workspace_id", workspace_id), ("r.id", repo_id),
                          ("r.wallet_address", wallet_address)):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    clause = " AND ".join(where)
    scope = ("SELECT r.id FROM repos r JOIN memberships m"  # noqa: S608
             f" ON m.workspace_id = r.workspace_id WHERE {clause}")
    rows = conn.execute(
        "SELECT r.id, r.workspace_id, r.name, r.storage_type, r.mode, r.created_at,"  # noqa: S608
        " r.buckets_json, r.wallet_address FROM repos r"
        f" JOIN memberships m ON m.workspace_id = r.workspace_id WHERE {clause}"
        " ORDER BY r.name, r.id", params).fetchall()
    links: dict[str, list[str]] = {}
    for repo, llm_id in conn.execute(
            f"SELECT repo_id, ai_llm_id FROM repo_ai_llms WHERE repo_id IN ({scope})"  # noqa: S608
            " ORDER BY created_at, rowid", params):
        links.setdefault(repo, []).append(llm_id)
    keys: dict[str, list[ApiKeyRecord]] = {}
    for key in list_api_keys(conn, None, scope=(scope, params)):
        keys.setdefault(key.repo_id, []).append(key)
    return [RepoRecord(id=r["id"], workspace_id=r["workspace_id"], name=r["name"],
                       storage_type=r["storage_type"], mode=r["mode"],
                       created_at=r["created_at"], buckets=json.loads(r["buckets_json"]),
                       wallet_address=r["wallet_address"],
                       llm_ids=tuple(links.get(r["id"], ())),
                       keys=tuple(keys.get(r["id"], ())))
            for r in rows]


# ---------------------------------------------------------------------------------------------
# Gateway routing
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyRoute:
    """Where a gateway request with a given key goes, credentials opened."""

    key_id: str
    repo_id: str
    workspace_id: str
    ai_type: AiType
    llm_id: str | None
    credentials: llm_store.Credentials | None


def route_for_digest(conn: Conn, keyring: Keyring, digest: str
                     ) -> KeyRoute | None:
    """The route of a live key, by its secret's digest (None if unknown or revoked): its
    repository's oldest linked configuration of the key's type, credentials opened."""
    row = conn.execute(
        "SELECT k.id, k.repo_id, k.ai_type, r.workspace_id FROM repo_ai_api_keys k"
        " JOIN repos r ON r.id = k.repo_id WHERE k.secret_hash = ? AND k.deleted_at IS NULL",
        (digest,),
    ).fetchone()
    if row is None:
        return None
    ai_type = AiType(row["ai_type"])
    llm = conn.execute(
        "SELECT a.id FROM repo_ai_llms l JOIN ai_llms a ON a.id = l.ai_llm_id"
        " WHERE l.repo_id = ? AND a.ai_type = ? ORDER BY l.created_at, a.rowid LIMIT 1",
        (row["repo_id"], ai_type.value),
    ).fetchone()
    credentials = None
    if llm is not None:
        credentials = llm_store.load_credentials(conn, keyring, llm["id"])
    return KeyRoute(key_id=row["id"], repo_id=row["repo_id"], workspace_id=row["workspace_id"],
                    ai_type=ai_type, llm_id=llm["id"] if llm else None, credentials=credentials)
