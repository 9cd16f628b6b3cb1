"""SQL for repository AI API keys: issue, list, rename, revoke. No web framework.

An AI API key has a public identifier (``key``, ``fbk_...``) and a secret (``fbsk_...``, 256
random bits) that applications send to the gateway as ``Authorization: Bearer <secret>``. Only
the secret's SHA-256 digest and a mask of its last 4 characters are stored: a fast digest is
enough for a high-entropy random token (no password guessing to slow down) and keeps the
gateway's key lookup cheap. Revoking a key keeps its row (listed with ``deleted_at``) and
drops the digest, so nothing can match it again.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from pydantic import SecretStr

from flashback_tui.api.models import mask_key
from flashback_tui.server.sql import Conn, IntegrityError, Record, transaction, unique_violation
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

PUBLIC_KEY_PREFIX = "fbk_"
SECRET_PREFIX = "fbsk_"
API_KEY_NOT_FOUND = "AI API key not found"


def secret_digest(secret: str) -> str:
    """What the database stores for an AI API key secret: its SHA-256, hex."""
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedApiKey:
    """A freshly created AI API key; the plaintext secret exists only here and on the wire."""

    id: str
    key: str
    secret: SecretStr


@dataclass(frozen=True)
class ApiKeyRecord:
    """A key as listed: never its secret. ``deleted_at`` is set once revoked."""

    id: str
    repo_id: str
    name: str
    ai_type: str
    public_key: str
    created_at: str
    deleted_at: str | None


def _where_of(conn: Conn, repo_id: str) -> tuple[str, str]:
    """The workspace and org of a repository (NotFound if it is gone)."""
    row = conn.execute("SELECT r.workspace_id, w.org_id FROM repos r JOIN workspaces w"
                       " ON w.id = r.workspace_id WHERE r.id = ?", (repo_id,)).fetchone()
    if row is None:
        raise NotFound("repository not found")
    return row["workspace_id"], row["org_id"]


def _name_taken(name: str) -> Conflict:
    return Conflict(f"name: this repository already has a key named {name!r}")


def create_api_key(conn: Conn, actor: Actor | None, *, repo_id: str,
                   name: str, ai_type: str) -> IssuedApiKey:
    """Issue a key for a repository that has a configuration of ``ai_type`` linked."""
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    public_key = PUBLIC_KEY_PREFIX + secrets.token_hex(8)
    key_id = new_id()
    with transaction(conn):
        workspace_id, org_id = _where_of(conn, repo_id)
        linked = conn.execute(
            "SELECT 1 FROM repo_ai_llms l JOIN ai_llms a ON a.id = l.ai_llm_id"
            " WHERE l.repo_id = ? AND a.ai_type = ? LIMIT 1", (repo_id, ai_type)).fetchone()
        if linked is None:
            raise Invalid(f"aiType: the repository has no {ai_type} configuration linked")
        try:
            conn.execute(
                "INSERT INTO repo_ai_api_keys (id, repo_id, user_id, name, ai_type, public_key,"
                " secret_hash, secret_mask, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (key_id, repo_id, actor.id if actor else None, name, ai_type, public_key,
                 secret_digest(secret), mask_key(secret), now_iso()),
            )
        except IntegrityError as exc:
            if "name" in (unique_violation(exc) or ""):
                raise _name_taken(name) from None
            raise
        event_store.record(conn, actor, context=event_store.AI_LLM_API_KEY, context_id=key_id,
                           event=event_store.CREATED, workspace_id=workspace_id,
                           changed=["name", "aiType", "key", "secret"], org_id=org_id)
    return IssuedApiKey(id=key_id, key=public_key, secret=SecretStr(secret))


def list_api_keys(conn: Conn, repo_id: str | None, *,
                  scope: tuple[str, list[Any]] | None = None) -> list[ApiKeyRecord]:
    """The keys of a repository (or of the repositories a ``scope`` subquery selects),
    revoked ones included, oldest first."""
    if scope is not None:
        where, params = f"repo_id IN ({scope[0]})", scope[1]
    else:
        where, params = "repo_id = ?", [repo_id]
    rows = conn.execute(
        "SELECT id, repo_id, name, ai_type, public_key, created_at, deleted_at"  # noqa: S608
        f" FROM repo_ai_api_keys WHERE {where} ORDER BY created_at, rowid", params).fetchall()
    return [ApiKeyRecord(id=r["id"], repo_id=r["repo_id"], name=r["name"],
                         ai_type=r["ai_type"], public_key=r["public_key"],
                         created_at=r["created_at"], deleted_at=r["deleted_at"])
            for r in rows]


def _key_row(conn: Conn, repo_id: str, key_id: str) -> Record:
    row = conn.execute("SELECT name, deleted_at FROM repo_ai_api_keys WHERE id = ? AND"
                       " repo_id = ?", (key_id, repo_id)).fetchone()
    if row is None:
        raise NotFound(API_KEY_NOT_FOUND)
    return row


def rename_api_key(conn: Conn, actor: Actor | None, repo_id: str, key_id: str,
                   name: str) -> bool:
    """Rename a live key; whether the name changed. A revoked key cannot be renamed."""
    with transaction(conn):
        row = _key_row(conn, repo_id, key_id)
        if row["deleted_at"] is not None:
            raise Invalid("apiKeyId: the key is revoked and cannot be renamed")
        if row["name"] == name:
            return False
        try:
            conn.execute("UPDATE repo_ai_api_keys SET name = ? WHERE id = ?", (name, key_id))
        except IntegrityError as exc:
            if is_unique_violation(exc):
                raise _name_taken(name) from None
            raise
        workspace_id, org_id = _where_of(conn, repo_id)
        event_store.record(conn, actor, context=event_store.AI_LLM_API_KEY, context_id=key_id,
                           event=event_store.UPDATED, workspace_id=workspace_id,
                           changed=["name"], org_id=org_id)
    return True


def revoke_api_key(conn: Conn, actor: Actor | None, repo_id: str,
                   key_id: str) -> None:
    """Revoke a live key: it is kept (listed with ``deleted_at``) but its digest is dropped.

    NotFound for an unknown key and for one already revoked.
    """
    with transaction(conn):
        cursor = conn.execute(
            "UPDATE repo_ai_api_keys SET deleted_at = ?, secret_hash = NULL"
            " WHERE id = ? AND repo_id = ? AND deleted_at IS NULL", (now_iso(), key_id, repo_id))
        if cursor.rowcount == 0:
            raise NotFound(f"{API_KEY_NOT_FOUND} (or already revoked)")
        workspace_id, org_id = _where_of(conn, repo_id)
        event_store.record(conn, actor, context=event_store.AI_LLM_API_KEY, context_id=key_id,
                           event=event_store.DELETED, workspace_id=workspace_id, org_id=org_id)
