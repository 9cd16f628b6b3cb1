"""Users, the org they belong to, the first-start bootstrap, and bearer tokens.

The first user of a data dir (``admin@localhost``, made by :func:`bootstrap`) is the org's
OWNER (255); other users are USER (0) unless created with another org role.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from pydantic import SecretStr

from flashback_tui.api.models import OrgRole
from flashback_tui.server.security import new_token, token_digest
from flashback_tui.server.sql import Conn, IntegrityError, Record, transaction
from flashback_tui.server.store import events
from flashback_tui.server.store.base import (
    Conflict,
    Invalid,
    NotFound,
    is_unique_violation,
    new_id,
    now_iso,
    now_ms,
)

#: What the first start on an empty data dir creates.
LOCAL_ADMIN_EMAIL = "admin@localhost"
DEFAULT_WORKSPACE = "Default"
DEFAULT_ORG = "Local"
#: The org role of the first user of a data dir.
OWNER_ROLE = int(OrgRole.OWNER)


def default_org_id(conn: Conn) -> str:
    """The first org (the local platform normally has exactly one)."""
    row = conn.execute("SELECT id FROM orgs ORDER BY created_at, rowid LIMIT 1").fetchone()
    if row is None:
        raise NotFound("the data dir has no org yet; start the server once")
    return row["id"]


def bootstrap(conn: Conn) -> bool:
    """On an empty database create the org, workspace Default and admin@localhost.

    Returns True if it created them. Safe to call on every start and from racing processes.
    """
    if conn.execute("SELECT 1 FROM orgs LIMIT 1").fetchone():
        return False  # the usual case, without taking the write lock
    with transaction(conn):
        if conn.execute("SELECT 1 FROM orgs LIMIT 1").fetchone():
            return False
        now = now_iso()
        org_id, ws_id, user_id = new_id(), new_id(), new_id()
        conn.execute("INSERT INTO orgs (id, name, created_at) VALUES (?, ?, ?)",
                     (org_id, DEFAULT_ORG, now))
        conn.execute(
            "INSERT INTO workspaces (id, org_id, name, created_at) VALUES (?, ?, ?, ?)",
            (ws_id, org_id, DEFAULT_WORKSPACE, now),
        )
        conn.execute(
            "INSERT INTO users (id, org_id, email, name, org_role, password_hash, created_at)"
            " VALUES (?, ?, ?, ?, ?, NULL, ?)",
            (user_id, org_id, LOCAL_ADMIN_EMAIL, "Local admin", OWNER_ROLE, now),
        )
        conn.execute(
            "INSERT INTO memberships (workspace_id, user_id, role) VALUES (?, ?, 'ADMIN')",
            (ws_id, user_id),
        )
    return True


def check_org_role(value: int) -> int:
    """``value`` if it is an org role (0, 1, 2, 254, 255); Invalid otherwise."""
    if isinstance(value, bool) or value not in {int(role) for role in OrgRole}:
        allowed = ", ".join(f"{role.value} {role.name}" for role in OrgRole)
        raise Invalid(f"orgRole: must be one of {allowed}")
    return int(value)


def create_user(
    conn: Conn,
    email: str,
    *,
    password_hash: str | None = None,
    name: str | None = None,
    org_role: int = 0,
    actor: events.Actor | None = None,
) -> str:
    """Add a user to the default org (one USER created event); Conflict if the email is taken."""
    email = email.strip()
    if not email or "@" not in email or len(email) > 320:
        raise Invalid("email: must be an email address")
    org_role = check_org_role(org_role)
    user_id = new_id()
    changed = ["email", "name", "orgRole"] + (["password"] if password_hash else [])
    with transaction(conn):
        org_id = default_org_id(conn)
        try:
            conn.execute(
                "INSERT INTO users (id, org_id, email, name, last_name, org_role, password_hash,"
                " created_at) VALUES (?, ?, ?, ?, '', ?, ?, ?)",
                (user_id, org_id, email, (name or "").strip(), org_role, password_hash,
                 now_iso()),
            )
        except IntegrityError as exc:
            if is_unique_violation(exc):
                raise Conflict(f"a user with email {email} already exists") from None
            raise
        events.record(conn, actor, context=events.USER, context_id=user_id,
                      event=events.CREATED, changed=changed, org_id=org_id)
    return user_id


def user_by_email(conn: Conn, email: str) -> Record | None:
    """The user row for an email (case-insensitive), or None."""
    return conn.execute("SELECT * FROM users WHERE lower(email) = lower(?)",
                        (email.strip(),)).fetchone()


def user_by_id(conn: Conn, user_id: str) -> Record | None:
    """The user row for an id, or None."""
    return conn.execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone()


def user_in_org(conn: Conn, user_id: str, org_id: str) -> Record | None:
    """The user row for an id if the user belongs to ``org_id``, else None."""
    return conn.execute("SELECT * FROM users WHERE id = ? AND org_id = ?",
                        (user_id, org_id)).fetchone()


def require_user(conn: Conn, email: str) -> Record:
    """The user row for an email, or NotFound."""
    row = user_by_email(conn, email)
    if row is None:
        raise NotFound(f"no user with email {email}")
    return row


@dataclass(frozen=True)
class IssuedToken:
    """A freshly issued bearer token (plaintext exists only here and on the wire)."""

    token: SecretStr
    expires_at: int  # Unix ms
    token_id: str  # a UUID derived from the stored digest: names the token, reveals nothing


def issue_token(conn: Conn, user_id: str, kind: str, ttl_seconds: float
                ) -> IssuedToken:
    """Create an access or refresh token; only its digest is stored."""
    token = new_token(kind)
    digest = token_digest(token)
    now = now_ms()
    expires = now + int(ttl_seconds * 1000)
    with transaction(conn):
        conn.execute("DELETE FROM tokens WHERE user_id = ? AND expires_at <= ?", (user_id, now))
        conn.execute(
            "INSERT INTO tokens (token_hash, user_id, kind, expires_at, created_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (digest, user_id, kind, expires, now_iso()),
        )
    return IssuedToken(token=SecretStr(token), expires_at=expires,
                       token_id=str(uuid.UUID(digest[:32])))


def user_for_token(conn: Conn, token: str, kind: str = "access"
                   ) -> Record | None:
    """The user a live token of ``kind`` belongs to, or None (unknown or expired)."""
    return conn.execute(
        "SELECT u.* FROM tokens t JOIN users u ON u.id = t.user_id"
        " WHERE t.token_hash = ? AND t.kind = ? AND t.expires_at > ?",
        (token_digest(token), kind, now_ms()),
    ).fetchone()


def consume_refresh_token(conn: Conn, token: str) -> str | None:
    """Delete a live refresh token and return its user id (None if unknown or expired)."""
    with transaction(conn):
        row = conn.execute(
            "DELETE FROM tokens WHERE token_hash = ? AND kind = 'refresh' RETURNING user_id,"
            " expires_at",
            (token_digest(token),),
        ).fetchone()
    if row is None or row["expires_at"] <= now_ms():
        return None
    return row["user_id"]


def revoke_tokens(conn: Conn, user_id: str, digests: Iterable[str]) -> None:
    """Delete the user's tokens with these digests (others' tokens are left alone)."""
    with transaction(conn):
        conn.executemany("DELETE FROM tokens WHERE token_hash = ? AND user_id = ?",
                         [(digest, user_id) for digest in digests])
