"""SQL for repositories, their linked configurations and their AI API keys. No web framework.

An AI API key has a public identifier (``key``, ``fbk_...``) and a secret (``fbsk_...``, 256
random bits) that applications send to the gateway as ``Authorization: Bearer <secret>``. Only
the secret's SHA-256 digest and a mask of its last 4 characters are stored: a fast digest is
enough for a high-entropy random token (no password guessing to slow down) and keeps the
gateway's key lookup cheap. Errors are :mod:`flashback_tui.server.store` errors.
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
from dataclasses import dataclass
from typing import Any

from pydantic import SecretStr, TypeAdapter

from flashback_tui.api.models import (
    AiLlm,
    AiLlmStats,
    AiType,
    Repo,
    RepoAiApiKey,
    mask_key,
)
from flashback_tui.server.crypto import Keyring
from flashback_tui.server.db import transaction
from flashback_tui.server.store import ai_llms as llm_store
from flashback_tui.server.store import base as store_base
from flashback_tui.server.store.base import Invalid, NotFound, new_id, now_iso

#: What the first start on an empty data dir creates.
LOCAL_ADMIN_EMAIL = "admin@localhost"
DEFAULT_WORKSPACE = "Default"
DEFAULT_ORG = "Local"

#: Validates a list of ``AiLlm`` wire dicts in one pass.
AI_LLM_LIST = TypeAdapter(list[AiLlm])
_STATS_LIST = TypeAdapter(list[AiLlmStats])


def add_repo(conn: sqlite3.Connection, name: str, workspace_id: str, llm_id: str) -> str:
    """Create (or reuse) a repository by name in a workspace and link a configuration."""
    name = name.strip()
    if not name or len(name) > 255:
        raise Invalid("name: must be 1 to 255 characters")
    with transaction(conn):
        llm = conn.execute("SELECT workspace_id FROM ai_llms WHERE id = ?", (llm_id,)).fetchone()
        if llm is None:
            raise NotFound(f"no configuration {llm_id}")
        if llm["workspace_id"] != workspace_id:
            raise Invalid("llm: the configuration belongs to another workspace")
        row = conn.execute("SELECT id FROM repos WHERE workspace_id = ? AND name = ?",
                           (workspace_id, name)).fetchone()
        now = now_iso()
        repo_id = row["id"] if row else new_id()
        if row is None:
            conn.execute(
                "INSERT INTO repos (id, workspace_id, name, created_at) VALUES (?, ?, ?, ?)",
                (repo_id, workspace_id, name, now),
            )
        conn.execute(
            "INSERT OR IGNORE INTO repo_ai_llms (repo_id, ai_llm_id, created_at)"
            " VALUES (?, ?, ?)",
            (repo_id, llm_id, now),
        )
    return repo_id



PUBLIC_KEY_PREFIX = "fbk_"
SECRET_PREFIX = "fbsk_"
REPO_NOT_FOUND = "repository not found"
API_KEY_NOT_FOUND = "AI API key not found"


def secret_digest(secret: str) -> str:
    """What the database stores for an AI API key secret: its SHA-256, hex."""
    return hashlib.sha256(secret.encode()).hexdigest()


# ---------------------------------------------------------------------------------------------
# Repositories
# ---------------------------------------------------------------------------------------------


def create_repo(conn: sqlite3.Connection, *, workspace_id: str, name: str,
                llm_ids: list[str]) -> str:
    """Insert a repository and link configurations of the same workspace to it."""
    repo_id = store_base.new_id()
    now = store_base.now_iso()
    with transaction(conn):
        for index, llm_id in enumerate(dict.fromkeys(llm_ids)):
            row = conn.execute("SELECT workspace_id FROM ai_llms WHERE id = ?", (llm_id,)
                               ).fetchone()
            if row is None or row["workspace_id"] != workspace_id:
                raise store_base.Invalid(
                    f"repoAiLlms.{index}.aiLlmId: no configuration {llm_id} in this workspace")
        try:
            conn.execute(
                "INSERT INTO repos (id, workspace_id, name, created_at) VALUES (?, ?, ?, ?)",
                (repo_id, workspace_id, name, now),
            )
        except sqlite3.IntegrityError as exc:
            if "UNIQUE" in str(exc):
                raise store_base.Conflict(
                    f"name: a repository named {name!r} already exists in this workspace"
                ) from None
            raise
        conn.executemany(
            "INSERT OR IGNORE INTO repo_ai_llms (repo_id, ai_llm_id, created_at)"
            " VALUES (?, ?, ?)",
            [(repo_id, llm_id, now) for llm_id in dict.fromkeys(llm_ids)],
        )
    return repo_id


def repo_row(conn: sqlite3.Connection, repo_id: str) -> sqlite3.Row | None:
    """The raw row of a repository, or None."""
    return conn.execute("SELECT * FROM repos WHERE id = ?", (repo_id,)).fetchone()


def list_repos(conn: sqlite3.Connection, user_id: str, workspace_id: str | None = None
               ) -> list[Repo]:
    """Repositories in the user's workspaces (or one of them), by name, with their links."""
    params: list[Any] = [user_id]
    extra = ""
    if workspace_id is not None:
        extra = " AND r.workspace_id = ?"
        params.append(workspace_id)
    rows = conn.execute(
        "SELECT r.id, r.name, r.workspace_id, r.created_at,"  # noqa: S608
        " (SELECT COUNT(*) FROM repo_ai_api_keys k WHERE k.repo_id = r.id) AS key_count"
        " FROM repos r JOIN memberships m ON m.workspace_id = r.workspace_id"
        f" WHERE m.user_id = ?{extra} ORDER BY r.name, r.id",
        params,
    ).fetchall()
    links = conn.execute(
        "SELECT l.repo_id, a.id, a.name, a.ai_type FROM repo_ai_llms l"  # noqa: S608
        " JOIN ai_llms a ON a.id = l.ai_llm_id JOIN repos r ON r.id = l.repo_id"
        " JOIN memberships m ON m.workspace_id = r.workspace_id"
        f" WHERE m.user_id = ?{extra} ORDER BY l.created_at, a.name",
        params,
    ).fetchall()
    by_repo: dict[str, list[dict[str, Any]]] = {}
    for link in links:
        by_repo.setdefault(link["repo_id"], []).append(
            {"aiLlmId": link["id"], "name": link["name"], "aiType": link["ai_type"]})
    return [
        Repo.model_validate({
            "id": r["id"], "name": r["name"], "workspaceId": r["workspace_id"],
            "createdAt": r["created_at"], "repoAiLlms": by_repo.get(r["id"], []),
            "apiKeyCount": r["key_count"],
        })
        for r in rows
    ]


def delete_repo(conn: sqlite3.Connection, repo_id: str) -> None:
    """Remove a repository, its links and its AI API keys (usage history stays)."""
    with transaction(conn):
        if conn.execute("DELETE FROM repos WHERE id = ?", (repo_id,)).rowcount == 0:
            raise store_base.NotFound(REPO_NOT_FOUND)


# ---------------------------------------------------------------------------------------------
# AI API keys
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedApiKey:
    """A freshly created AI API key; the plaintext secret exists only here and on the wire."""

    id: str
    key: str
    secret: SecretStr


def create_api_key(conn: sqlite3.Connection, *, repo_id: str, user_id: str | None, name: str,
                   ai_type: AiType) -> IssuedApiKey:
    """Issue a key for a repository that has a configuration of ``ai_type`` linked."""
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    public_key = PUBLIC_KEY_PREFIX + secrets.token_hex(8)
    key_id = store_base.new_id()
    with transaction(conn):
        linked = conn.execute(
            "SELECT 1 FROM repo_ai_llms l JOIN ai_llms a ON a.id = l.ai_llm_id"
            " WHERE l.repo_id = ? AND a.ai_type = ? LIMIT 1",
            (repo_id, ai_type.value),
        ).fetchone()
        if linked is None:
            raise store_base.Invalid(
                f"aiType: the repository has no {ai_type.value} configuration linked")
        try:
            conn.execute(
                "INSERT INTO repo_ai_api_keys (id, repo_id, user_id, name, ai_type, public_key,"
                " secret_hash, secret_mask, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (key_id, repo_id, user_id, name, ai_type.value, public_key,
                 secret_digest(secret), mask_key(secret), store_base.now_iso()),
            )
        except sqlite3.IntegrityError as exc:
            if "repo_ai_api_keys.repo_id" in str(exc):
                raise store_base.Conflict(
                    f"name: this repository already has a key named {name!r}") from None
            raise
    return IssuedApiKey(id=key_id, key=public_key, secret=SecretStr(secret))


def list_api_keys(conn: sqlite3.Connection, repo_id: str) -> list[RepoAiApiKey]:
    """The keys of a repository, oldest first, without their secrets."""
    rows = conn.execute(
        "SELECT id, repo_id, name, ai_type, public_key, secret_mask, created_at"
        " FROM repo_ai_api_keys WHERE repo_id = ? ORDER BY created_at, rowid",
        (repo_id,),
    ).fetchall()
    return [
        RepoAiApiKey.model_validate({
            "id": r["id"], "repoId": r["repo_id"], "name": r["name"], "aiType": r["ai_type"],
            "key": r["public_key"], "secretMask": r["secret_mask"], "createdAt": r["created_at"],
        })
        for r in rows
    ]


def delete_api_key(conn: sqlite3.Connection, repo_id: str, key_id: str) -> None:
    """Revoke (delete) a key of a repository."""
    with transaction(conn):
        cursor = conn.execute("DELETE FROM repo_ai_api_keys WHERE id = ? AND repo_id = ?",
                              (key_id, repo_id))
        if cursor.rowcount == 0:
            raise store_base.NotFound(API_KEY_NOT_FOUND)


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


def route_for_digest(conn: sqlite3.Connection, keyring: Keyring, digest: str
                     ) -> KeyRoute | None:
    """The route of a key, by its secret's digest (None if unknown): its repository's oldest
    linked configuration of the key's type, with that configuration's key and secret opened."""
    row = conn.execute(
        "SELECT k.id, k.repo_id, k.ai_type, r.workspace_id FROM repo_ai_api_keys k"
        " JOIN repos r ON r.id = k.repo_id WHERE k.secret_hash = ?",
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
