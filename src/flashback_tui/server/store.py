"""SQL for each entity of the local platform. No web framework here.

Functions take a ``sqlite3.Connection`` (from :mod:`flashback_tui.server.db`) and return wire
models or plain rows. Failures that callers turn into HTTP statuses or CLI messages are
:class:`StoreError` subclasses whose messages never contain a secret.

Where SQL is assembled (``# noqa: S608``), only fixed column names and clauses written here
are joined; every value is a bound parameter.
"""

from __future__ import annotations

import hmac
import sqlite3
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

from pydantic import SecretStr, TypeAdapter

from flashback_tui.api.models import (
    DEFAULT_ENDPOINTS,
    AiLlm,
    AiLlmStats,
    AiStatsPoint,
    AiType,
    Role,
    UserInfo,
    Workspace,
    WorkspaceUser,
    mask_key,
)
from flashback_tui.server.crypto import CryptoError, Keyring, Sealed, associated_data
from flashback_tui.server.db import transaction
from flashback_tui.server.security import new_token, token_digest

#: What the first start on an empty data dir creates.
LOCAL_ADMIN_EMAIL = "admin@localhost"
DEFAULT_WORKSPACE = "Default"
DEFAULT_ORG = "Local"

#: Validates a list of ``AiLlm`` wire dicts in one pass.
AI_LLM_LIST = TypeAdapter(list[AiLlm])
_STATS_LIST = TypeAdapter(list[AiLlmStats])

# ---------------------------------------------------------------------------------------------
# Errors and small helpers
# ---------------------------------------------------------------------------------------------


class StoreError(Exception):
    """A request the data cannot satisfy; the message is safe to show."""


class NotFound(StoreError):
    """No such row (or not visible to the caller)."""


class Conflict(StoreError):
    """A unique name or email is already taken."""


class InUse(StoreError):
    """The row is referenced and cannot be removed."""


class Invalid(StoreError):
    """A value is not acceptable; the message starts with the field name."""


def new_id() -> str:
    """A fresh UUID string."""
    return str(uuid.uuid4())


def now_iso() -> str:
    """Now as ``YYYY-MM-DDTHH:MM:SS.mmmZ`` (sorts lexicographically)."""
    now = datetime.now(UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def now_ms() -> int:
    """Now in Unix milliseconds."""
    return int(datetime.now(UTC).timestamp() * 1000)


def _is_unique_violation(exc: sqlite3.IntegrityError) -> bool:
    return "UNIQUE" in str(exc)


def data_version(conn: sqlite3.Connection, *, usage: bool = False) -> tuple[int, ...]:
    """Numbers that change whenever listed data changes (bumped by triggers).

    Configurations, workspaces, members and repositories share one counter; usage totals
    have their own, which only answers that show usage (``usage=True``) depend on.
    """
    if usage:
        row = conn.execute("SELECT (SELECT value FROM change_counter WHERE id = 1),"
                           " (SELECT value FROM usage_counter WHERE id = 1)").fetchone()
        return (row[0], row[1])
    return (conn.execute("SELECT value FROM change_counter WHERE id = 1").fetchone()[0],)


# ---------------------------------------------------------------------------------------------
# Orgs, users, bootstrap
# ---------------------------------------------------------------------------------------------


def default_org_id(conn: sqlite3.Connection) -> str:
    """The first org (the local platform normally has exactly one)."""
    row = conn.execute("SELECT id FROM orgs ORDER BY created_at, rowid LIMIT 1").fetchone()
    if row is None:
        raise NotFound("the data dir has no org yet; start the server once")
    return row["id"]


def bootstrap(conn: sqlite3.Connection) -> bool:
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
            " VALUES (?, ?, ?, ?, 'ADMIN', NULL, ?)",
            (user_id, org_id, LOCAL_ADMIN_EMAIL, "Local admin", now),
        )
        conn.execute(
            "INSERT INTO memberships (workspace_id, user_id, role) VALUES (?, ?, 'ADMIN')",
            (ws_id, user_id),
        )
    return True


def create_user(
    conn: sqlite3.Connection,
    email: str,
    *,
    password_hash: str | None = None,
    name: str | None = None,
    org_role: str = "USER",
) -> str:
    """Add a user to the default org; Conflict if the email is taken."""
    email = email.strip()
    if not email or "@" not in email or len(email) > 320:
        raise Invalid("email: must be an email address")
    user_id = new_id()
    with transaction(conn):
        try:
            conn.execute(
                "INSERT INTO users (id, org_id, email, name, org_role, password_hash, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (user_id, default_org_id(conn), email, name, org_role, password_hash, now_iso()),
            )
        except sqlite3.IntegrityError as exc:
            if _is_unique_violation(exc):
                raise Conflict(f"a user with email {email} already exists") from None
            raise
    return user_id


def user_by_email(conn: sqlite3.Connection, email: str) -> sqlite3.Row | None:
    """The user row for an email (case-insensitive), or None."""
    return conn.execute("SELECT * FROM users WHERE email = ?", (email.strip(),)).fetchone()


def user_by_id(conn: sqlite3.Connection, user_id: str) -> sqlite3.Row | None:
    """The user row for an id, or None."""
    return conn.execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone()


def require_user(conn: sqlite3.Connection, email: str) -> sqlite3.Row:
    """The user row for an email, or NotFound."""
    row = user_by_email(conn, email)
    if row is None:
        raise NotFound(f"no user with email {email}")
    return row


# ---------------------------------------------------------------------------------------------
# Workspaces and memberships
# ---------------------------------------------------------------------------------------------


def create_workspace(conn: sqlite3.Connection, name: str) -> str:
    """Add a workspace to the default org; Conflict if the name is taken."""
    name = name.strip()
    if not name or len(name) > 255:
        raise Invalid("name: must be 1 to 255 characters")
    ws_id = new_id()
    with transaction(conn):
        try:
            conn.execute(
                "INSERT INTO workspaces (id, org_id, name, created_at) VALUES (?, ?, ?, ?)",
                (ws_id, default_org_id(conn), name, now_iso()),
            )
        except sqlite3.IntegrityError as exc:
            if _is_unique_violation(exc):
                raise Conflict(f"a workspace named {name} already exists") from None
            raise
    return ws_id


def find_workspace(conn: sqlite3.Connection, name_or_id: str) -> sqlite3.Row:
    """A workspace by id or by name; NotFound otherwise."""
    row = conn.execute(
        "SELECT * FROM workspaces WHERE id = ? OR name = ? ORDER BY id = ? DESC LIMIT 1",
        (name_or_id, name_or_id, name_or_id),
    ).fetchone()
    if row is None:
        raise NotFound(f"no workspace {name_or_id}")
    return row


def set_membership(conn: sqlite3.Connection, workspace_id: str, user_id: str, role: Role) -> None:
    """Give a user a role in a workspace (replacing any previous role)."""
    with transaction(conn):
        conn.execute(
            "INSERT INTO memberships (workspace_id, user_id, role) VALUES (?, ?, ?)"
            " ON CONFLICT (workspace_id, user_id) DO UPDATE SET role = excluded.role",
            (workspace_id, user_id, Role(role).value),
        )


def role_in(conn: sqlite3.Connection, user_id: str, workspace_id: str) -> Role | None:
    """The caller's role in a workspace, or None if not a member (or no such workspace)."""
    row = conn.execute(
        "SELECT role FROM memberships WHERE user_id = ? AND workspace_id = ?",
        (user_id, workspace_id),
    ).fetchone()
    return Role(row["role"]) if row else None


def workspaces_of(conn: sqlite3.Connection, user_id: str, workspace_id: str | None = None
                  ) -> list[Workspace]:
    """Workspaces the user belongs to (or just ``workspace_id``), each with its members."""
    params: list[Any] = [user_id]
    extra = ""
    if workspace_id is not None:
        extra = " AND w.id = ?"
        params.append(workspace_id)
    rows = conn.execute(
        "SELECT w.id, w.name, w.org_id FROM workspaces w"  # noqa: S608
        " JOIN memberships m ON m.workspace_id = w.id"
        f" WHERE m.user_id = ?{extra} ORDER BY w.created_at, w.rowid",
        params,
    ).fetchall()
    workspaces = {r["id"]: Workspace(id=r["id"], name=r["name"], org_id=r["org_id"])
                  for r in rows}
    if not workspaces:
        return []
    members = conn.execute(
        "SELECT m.workspace_id, m.role, u.id, u.name, u.last_name, u.email, u.org_role"
        " FROM memberships m JOIN users u ON u.id = m.user_id"
        " WHERE m.workspace_id IN (SELECT workspace_id FROM memberships WHERE user_id = ?)"
        " ORDER BY u.email",
        (user_id,),
    ).fetchall()
    for m in members:
        ws = workspaces.get(m["workspace_id"])
        if ws is None:
            continue
        info = UserInfo(id=m["id"], name=m["name"], last_name=m["last_name"],
                        email=m["email"], org_role=m["org_role"])
        ws.users.append(WorkspaceUser(user_id=m["id"], role=Role(m["role"]), user=info))
    return list(workspaces.values())


# ---------------------------------------------------------------------------------------------
# Tokens
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedToken:
    """A freshly issued bearer token (plaintext exists only here and on the wire)."""

    token: SecretStr
    expires_at: int  # Unix ms


def issue_token(conn: sqlite3.Connection, user_id: str, kind: str, ttl_seconds: float
                ) -> IssuedToken:
    """Create an access or refresh token; only its digest is stored."""
    token = new_token(kind)
    now = now_ms()
    expires = now + int(ttl_seconds * 1000)
    with transaction(conn):
        conn.execute("DELETE FROM tokens WHERE user_id = ? AND expires_at <= ?", (user_id, now))
        conn.execute(
            "INSERT INTO tokens (token_hash, user_id, kind, expires_at, created_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (token_digest(token), user_id, kind, expires, now_iso()),
        )
    return IssuedToken(token=SecretStr(token), expires_at=expires)


def user_for_token(conn: sqlite3.Connection, token: str, kind: str = "access"
                   ) -> sqlite3.Row | None:
    """The user a live token of ``kind`` belongs to, or None (unknown or expired)."""
    return conn.execute(
        "SELECT u.* FROM tokens t JOIN users u ON u.id = t.user_id"
        " WHERE t.token_hash = ? AND t.kind = ? AND t.expires_at > ?",
        (token_digest(token), kind, now_ms()),
    ).fetchone()


def consume_refresh_token(conn: sqlite3.Connection, token: str) -> str | None:
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


def revoke_tokens(conn: sqlite3.Connection, user_id: str, digests: Iterable[str]) -> None:
    """Delete the user's tokens with these digests (others' tokens are left alone)."""
    with transaction(conn):
        conn.executemany("DELETE FROM tokens WHERE token_hash = ? AND user_id = ?",
                         [(digest, user_id) for digest in digests])


# ---------------------------------------------------------------------------------------------
# AI LLM configurations
# ---------------------------------------------------------------------------------------------

_LLM_COLUMNS = (
    "a.id, a.org_id, a.workspace_id, a.user_id, a.name, a.ai_type, a.endpoint, a.key_mask,"
    " a.api_key_id, a.created_at, a.validation_status, a.validation_message, a.validated_at,"
    " a.generation, a.validated_generation"
)


def _seal(keyring: Keyring, value: SecretStr | None, row_id: str, field: str
          ) -> tuple[str | None, bytes | None]:
    if value is None:
        return None, None
    sealed = keyring.seal(value.get_secret_value(), aad=associated_data(row_id, field))
    return sealed.kid, sealed.blob


def _open(keyring: Keyring, kid: str | None, blob: bytes | None, row_id: str, field: str
          ) -> SecretStr | None:
    if kid is None or blob is None:
        return None
    plain = keyring.open(Sealed(kid, bytes(blob)), aad=associated_data(row_id, field))
    return SecretStr(plain)


def resolve_endpoint(ai_type: AiType, endpoint: str | None) -> str:
    """The given endpoint, or the type's default; Invalid for OTHER without one."""
    if endpoint:
        return endpoint
    default = DEFAULT_ENDPOINTS.get(ai_type)
    if default is None:
        raise Invalid(f"endpoint: required when aiType is {ai_type.value}")
    return default


def create_ai_llm(
    conn: sqlite3.Connection,
    keyring: Keyring,
    *,
    workspace_id: str,
    user_id: str | None,
    name: str,
    ai_type: AiType,
    endpoint: str | None,
    key: SecretStr | None = None,
    secret: SecretStr | None = None,
    api_key_id: str | None = None,
) -> str:
    """Insert a configuration with its key and secret sealed; Conflict on a duplicate name."""
    endpoint = resolve_endpoint(ai_type, endpoint)
    llm_id = new_id()
    key_kid, key_blob = _seal(keyring, key, llm_id, "key")
    secret_kid, secret_blob = _seal(keyring, secret, llm_id, "secret")
    now = now_iso()
    with transaction(conn):
        ws = conn.execute("SELECT org_id FROM workspaces WHERE id = ?", (workspace_id,)
                          ).fetchone()
        if ws is None:
            raise NotFound("workspace not found")
        try:
            conn.execute(
                "INSERT INTO ai_llms (id, org_id, workspace_id, user_id, name, ai_type, endpoint,"
                " key_mask, key_kid, key_blob, secret_kid, secret_blob, api_key_id, created_at,"
                " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (llm_id, ws["org_id"], workspace_id, user_id, name, ai_type.value, endpoint,
                 mask_key(key.get_secret_value()) if key else None, key_kid, key_blob,
                 secret_kid, secret_blob, api_key_id, now, now),
            )
        except sqlite3.IntegrityError as exc:
            if _is_unique_violation(exc):
                raise Conflict(
                    f"name: a configuration named {name!r} already exists in this workspace"
                ) from None
            raise
    return llm_id


def ai_llm_row(conn: sqlite3.Connection, llm_id: str) -> sqlite3.Row | None:
    """The raw row of a configuration (sealed columns included), or None."""
    return conn.execute("SELECT * FROM ai_llms WHERE id = ?", (llm_id,)).fetchone()


class AiLlmRecord(NamedTuple):
    """One listed configuration as read: its columns (``_LLM_COLUMNS`` order) and repos.

    Hashable and equal exactly when the wire form is equal, so it can key a cache of
    serialized items.
    """

    row: tuple[Any, ...]
    repos: tuple[tuple[str, str, str], ...]

    def to_wire(self) -> dict[str, Any]:
        """The camelCase data of an ``AiLlm``."""
        return _ai_llm_dict(self.row, self.repos)


def ai_llm_records(
    conn: sqlite3.Connection,
    user_id: str,
    *,
    workspace_id: str | None = None,
    llm_id: str | None = None,
    available_only: bool = False,
) -> list[AiLlmRecord]:
    """Configurations in the user's workspaces, newest first, each with its repos.

    ``available_only`` keeps those whose last validation succeeded and that have not
    changed since. Two queries in all, whatever the number of rows.
    """
    where = ["m.user_id = ?"]
    params: list[Any] = [user_id]
    if workspace_id is not None:
        where.append("a.workspace_id = ?")
        params.append(workspace_id)
    if llm_id is not None:
        where.append("a.id = ?")
        params.append(llm_id)
    if available_only:
        where.append("a.validation_status = 'VALID' AND a.validated_generation = a.generation")
    clause = " AND ".join(where)
    rows = _plain_cursor(conn).execute(
        f"SELECT {_LLM_COLUMNS} FROM ai_llms a"  # noqa: S608
        " JOIN memberships m ON m.workspace_id = a.workspace_id"
        f" WHERE {clause} ORDER BY a.created_at DESC, a.rowid DESC",
        params,
    ).fetchall()
    repos = _repos_by_llm(conn, clause, params)
    return [AiLlmRecord(row, repos.get(row[0], ())) for row in rows]


def _plain_cursor(conn: sqlite3.Connection) -> sqlite3.Cursor:
    """A cursor yielding plain tuples (cheaper than ``sqlite3.Row`` for big reads)."""
    cursor = conn.cursor()
    cursor.row_factory = None
    return cursor


def list_ai_llms(
    conn: sqlite3.Connection,
    user_id: str,
    *,
    workspace_id: str | None = None,
    llm_id: str | None = None,
    available_only: bool = False,
) -> list[AiLlm]:
    """:func:`ai_llm_records` as ``AiLlm`` models."""
    records = ai_llm_records(conn, user_id, workspace_id=workspace_id, llm_id=llm_id,
                             available_only=available_only)
    # One validation pass in pydantic-core for the whole list (far cheaper than per row).
    return AI_LLM_LIST.validate_python([record.to_wire() for record in records])


def visible_llm_ids(conn: sqlite3.Connection, user_id: str, llm_ids: Iterable[str]) -> set[str]:
    """Which of ``llm_ids`` are in workspaces the user belongs to."""
    ids = list(dict.fromkeys(llm_ids))
    if not ids:
        return set()
    marks = ", ".join("?" for _ in ids)
    rows = conn.execute(
        "SELECT a.id FROM ai_llms a JOIN memberships m ON m.workspace_id = a.workspace_id"  # noqa: S608
        f" WHERE m.user_id = ? AND a.id IN ({marks})",
        [user_id, *ids],
    ).fetchall()
    return {r["id"] for r in rows}


def _repos_by_llm(conn: sqlite3.Connection, clause: str, params: list[Any]
                  ) -> dict[str, tuple[tuple[str, str, str], ...]]:
    rows = _plain_cursor(conn).execute(
        "SELECT l.ai_llm_id, r.id, r.name, r.created_at FROM repo_ai_llms l"  # noqa: S608
        " JOIN repos r ON r.id = l.repo_id"
        " JOIN ai_llms a ON a.id = l.ai_llm_id"
        " JOIN memberships m ON m.workspace_id = a.workspace_id"
        f" WHERE {clause} ORDER BY r.name",
        params,
    ).fetchall()
    out: dict[str, list[tuple[str, str, str]]] = {}
    for llm_id, repo_id, name, created_at in rows:
        out.setdefault(llm_id, []).append((repo_id, name, created_at))
    return {llm_id: tuple(repos) for llm_id, repos in out.items()}


def _ai_llm_dict(row: tuple[Any, ...], repos: tuple[tuple[str, str, str], ...]
                 ) -> dict[str, Any]:
    """A row as wire-shaped data; validation outcomes of an older generation read as none."""
    (llm_id, org_id, workspace_id, user_id, name, ai_type, endpoint, key_mask, api_key_id,
     created_at, status, message, validated_at, generation, validated_generation) = row
    if status != "NOT_VALIDATED" and validated_generation != generation:
        status = "NOT_VALIDATED"
    validated = status != "NOT_VALIDATED"
    return {
        "id": llm_id,
        "orgId": org_id,
        "workspaceId": workspace_id,
        "userId": user_id,
        "name": name,
        "aiType": ai_type,
        "endpoint": endpoint,
        "key": key_mask,
        "apiKeyId": api_key_id,
        "createdAt": created_at,
        "repos": [{"id": r[0], "name": r[1], "createdAt": r[2]} for r in repos],
        "validationStatus": status,
        "validationMessage": message if validated else None,
        "validatedAt": validated_at if validated else None,
    }


def update_ai_llm(
    conn: sqlite3.Connection, keyring: Keyring, llm_id: str, changes: Mapping[str, Any]
) -> bool:
    """Apply a partial update; returns True if the configuration became unvalidated.

    ``changes`` holds only the fields the caller sent (python names of AiLlmUpdate). A change
    of endpoint, aiType, key or secret bumps the generation, which invalidates any stored
    validation outcome.
    """
    row = ai_llm_row(conn, llm_id)
    if row is None:
        raise NotFound("configuration not found")
    sets: dict[str, Any] = {}
    credentials_changed = False

    old_type = AiType(row["ai_type"])
    new_type = changes.get("ai_type") or old_type
    if new_type != old_type:
        sets["ai_type"] = new_type.value
        credentials_changed = True

    endpoint = changes.get("endpoint")
    if endpoint is None and new_type != old_type:
        # The old type's default endpoint follows the type; a custom one stays.
        if row["endpoint"] in (None, DEFAULT_ENDPOINTS.get(old_type)):
            endpoint = resolve_endpoint(new_type, None)
    if endpoint is not None and endpoint != row["endpoint"]:
        sets["endpoint"] = endpoint
        credentials_changed = True

    for field in ("key", "secret"):
        if field not in changes:
            continue
        new_value: SecretStr | None = changes[field]
        try:
            old_value = _open(keyring, row[f"{field}_kid"], row[f"{field}_blob"], llm_id, field)
            unchanged = _same_secret(old_value, new_value)
        except CryptoError:  # unreadable (lost key, damaged row): a new value repairs it
            unchanged = False
        if unchanged:
            continue
        sets[f"{field}_kid"], sets[f"{field}_blob"] = _seal(keyring, new_value, llm_id, field)
        if field == "key":
            sets["key_mask"] = mask_key(new_value.get_secret_value()) if new_value else None
        credentials_changed = True

    if "name" in changes and changes["name"] != row["name"]:
        sets["name"] = changes["name"]
    if "api_key_uuid" in changes:
        sets["api_key_id"] = changes["api_key_uuid"]

    if not sets:
        return False
    sets["updated_at"] = now_iso()
    assignments = ", ".join(f"{column} = ?" for column in sets)
    bump = (", generation = generation + 1, validation_status = 'NOT_VALIDATED',"
            " validation_message = NULL, validated_at = NULL, validated_generation = NULL"
            if credentials_changed else "")
    with transaction(conn):
        try:
            cursor = conn.execute(
                f"UPDATE ai_llms SET {assignments}{bump} WHERE id = ? AND generation = ?",  # noqa: S608
                [*sets.values(), llm_id, row["generation"]],
            )
        except sqlite3.IntegrityError as exc:
            if _is_unique_violation(exc):
                raise Conflict(
                    f"name: a configuration named {changes['name']!r} already exists in this"
                    " workspace"
                ) from None
            raise
        if cursor.rowcount == 0:
            raise Conflict("the configuration changed meanwhile; try again")
    return credentials_changed


def _same_secret(old: SecretStr | None, new: SecretStr | None) -> bool:
    if old is None or new is None:
        return old is None and new is None
    return hmac.compare_digest(old.get_secret_value().encode(), new.get_secret_value().encode())


def delete_ai_llm(conn: sqlite3.Connection, llm_id: str) -> None:
    """Remove a configuration and its sealed credentials; InUse while a repo links it."""
    with transaction(conn):
        used = conn.execute(
            "SELECT COUNT(*) FROM repo_ai_llms WHERE ai_llm_id = ?", (llm_id,)
        ).fetchone()[0]
        if used:
            raise InUse(f"the configuration is used by {used} repositor"
                        f"{'y' if used == 1 else 'ies'}; unlink it first")
        cursor = conn.execute("DELETE FROM ai_llms WHERE id = ?", (llm_id,))
        if cursor.rowcount == 0:
            raise NotFound("configuration not found")


@dataclass(frozen=True)
class Credentials:
    """What a validation probe needs, read at one generation of a configuration."""

    ai_type: AiType
    endpoint: str
    key: SecretStr | None
    secret: SecretStr | None
    generation: int


def load_credentials(conn: sqlite3.Connection, keyring: Keyring, llm_id: str) -> Credentials:
    """Open a configuration's key and secret for a probe."""
    row = ai_llm_row(conn, llm_id)
    if row is None:
        raise NotFound("configuration not found")
    ai_type = AiType(row["ai_type"])
    return Credentials(
        ai_type=ai_type,
        endpoint=row["endpoint"] or resolve_endpoint(ai_type, None),
        key=_open(keyring, row["key_kid"], row["key_blob"], llm_id, "key"),
        secret=_open(keyring, row["secret_kid"], row["secret_blob"], llm_id, "secret"),
        generation=row["generation"],
    )


def record_validation(
    conn: sqlite3.Connection, llm_id: str, generation: int, success: bool, message: str
) -> bool:
    """Store a probe outcome if the configuration is still at ``generation``."""
    with transaction(conn):
        cursor = conn.execute(
            "UPDATE ai_llms SET validation_status = ?, validation_message = ?,"
            " validated_at = ?, validated_generation = generation"
            " WHERE id = ? AND generation = ?",
            ("VALID" if success else "INVALID", message, now_iso(), llm_id, generation),
        )
    return cursor.rowcount == 1


def reseal_all(conn: sqlite3.Connection, keyring: Keyring) -> int:
    """Re-seal every key and secret under the keyring's current key, in one transaction."""
    count = 0
    with transaction(conn):
        rows = conn.execute(
            "SELECT id, key_kid, key_blob, secret_kid, secret_blob FROM ai_llms"
        ).fetchall()
        for row in rows:
            sets: dict[str, Any] = {}
            for field in ("key", "secret"):
                value = _open(keyring, row[f"{field}_kid"], row[f"{field}_blob"], row["id"],
                              field)
                if value is None:
                    continue
                sets[f"{field}_kid"], sets[f"{field}_blob"] = _seal(keyring, value, row["id"],
                                                                    field)
                count += 1
            if sets:
                assignments = ", ".join(f"{column} = ?" for column in sets)
                conn.execute(f"UPDATE ai_llms SET {assignments} WHERE id = ?",  # noqa: S608
                             [*sets.values(), row["id"]])
    return count


# ---------------------------------------------------------------------------------------------
# Repositories
# ---------------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------------
# Usage counters
# ---------------------------------------------------------------------------------------------

#: Counters of a usage_minute row, as AiStatsPoint field names.
MINUTE_COUNTERS = (
    "tokens_in", "tokens_out", "llm_tokens_in", "llm_tokens_out", "active_conversations",
    "api_calls", "policy_violations", "num_alerts", "num_blocks", "num_severity_low",
    "num_severity_medium", "num_severity_high",
)

#: usage_totals column -> the usage_minute counter that feeds it.
TOTALS_FROM_MINUTE = {
    "api_calls": "api_calls", "tokens_in": "tokens_in", "tokens_out": "tokens_out",
    "llm_tokens_in": "llm_tokens_in", "llm_tokens_out": "llm_tokens_out",
    "policy_violations": "policy_violations", "alerts": "num_alerts", "blocks": "num_blocks",
}

#: Adds one call's (or one batch's) counters to a minute bucket. Parameters: minute,
#: ai_llm_id, repo_id, repo_ai_api_key_id, the MINUTE_COUNTERS in order, latency_ms_total,
#: llm_type, llm_model, host.
USAGE_MINUTE_UPSERT = (
    "INSERT INTO usage_minute"  # noqa: S608 - fixed column names only
    f" (minute, ai_llm_id, repo_id, repo_ai_api_key_id, {', '.join(MINUTE_COUNTERS)},"
    f" latency_ms_total, llm_type, llm_model, host)"
    f" VALUES (?, ?, ?, ?, {', '.join('?' for _ in MINUTE_COUNTERS)}, ?, ?, ?, ?)"
    " ON CONFLICT (ai_llm_id, minute, repo_id, repo_ai_api_key_id) DO UPDATE SET "
    + ", ".join(f"{c} = {c} + excluded.{c}" for c in MINUTE_COUNTERS)
    + ", latency_ms_total = latency_ms_total + excluded.latency_ms_total,"
    " llm_type = COALESCE(excluded.llm_type, llm_type),"
    " llm_model = COALESCE(excluded.llm_model, llm_model),"
    " host = COALESCE(excluded.host, host)"
)

#: Adds the same counters to a configuration's totals. Parameters: ai_llm_id, then the
#: minute counters named by TOTALS_FROM_MINUTE's values, in its order.
USAGE_TOTALS_UPSERT = (
    f"INSERT INTO usage_totals (ai_llm_id, {', '.join(TOTALS_FROM_MINUTE)})"  # noqa: S608
    f" VALUES (?, {', '.join('?' for _ in TOTALS_FROM_MINUTE)}) ON CONFLICT (ai_llm_id)"
    " DO UPDATE SET " + ", ".join(f"{c} = {c} + excluded.{c}" for c in TOTALS_FROM_MINUTE)
)

MINUTE_MS = 60_000
DAY_MS = 86_400_000


def record_usage(
    conn: sqlite3.Connection,
    ai_llm_id: str,
    *,
    at_ms: int | None = None,
    repo_id: str | None = None,
    repo_ai_api_key_id: str | None = None,
    latency_ms: float = 0.0,
    llm_type: str | None = None,
    llm_model: str | None = None,
    host: str | None = None,
    **counters: int,
) -> None:
    """Add one call's counters to its minute bucket and to the configuration's totals."""
    unknown = set(counters) - set(MINUTE_COUNTERS)
    if unknown:
        raise ValueError(f"unknown usage counters: {sorted(unknown)}")
    minute = ((now_ms() if at_ms is None else at_ms) // MINUTE_MS) * MINUTE_MS
    values = {name: int(counters.get(name, 0)) for name in MINUTE_COUNTERS}
    with transaction(conn):
        conn.execute(USAGE_MINUTE_UPSERT, (
            minute, ai_llm_id, repo_id or "", repo_ai_api_key_id or "", *values.values(),
            latency_ms, llm_type, llm_model, host,
        ))
        conn.execute(USAGE_TOTALS_UPSERT,
                     (ai_llm_id, *(values[src] for src in TOTALS_FROM_MINUTE.values())))


def stats_totals(conn: sqlite3.Connection, user_id: str, llm_id: str | None = None
                 ) -> list[AiLlmStats]:
    """Usage totals of every configuration the user can see (or just ``llm_id``)."""
    params: list[Any] = [user_id]
    extra = ""
    if llm_id is not None:
        extra = " AND a.id = ?"
        params.append(llm_id)
    rows = conn.execute(
        "SELECT a.id, t.api_calls, t.tokens_in, t.tokens_out, t.llm_tokens_in,"  # noqa: S608
        " t.llm_tokens_out, t.policy_violations, t.alerts, t.blocks FROM ai_llms a"
        " JOIN memberships m ON m.workspace_id = a.workspace_id"
        " LEFT JOIN usage_totals t ON t.ai_llm_id = a.id"
        f" WHERE m.user_id = ?{extra} ORDER BY a.created_at DESC, a.rowid DESC",
        params,
    ).fetchall()
    return _STATS_LIST.validate_python([
        {
            "aiLlmId": r["id"],
            "totalApiCalls": r["api_calls"] or 0,
            "totalTokensIn": r["tokens_in"] or 0,
            "totalTokensOut": r["tokens_out"] or 0,
            "totalLlmTokensIn": r["llm_tokens_in"] or 0,
            "totalLlmTokensOut": r["llm_tokens_out"] or 0,
            "totalPolicyViolations": r["policy_violations"] or 0,
            "totalAlerts": r["alerts"] or 0,
            "totalBlocks": r["blocks"] or 0,
        }
        for r in rows
    ])


def usage_points(
    conn: sqlite3.Connection,
    user_id: str,
    *,
    start_ms: int,
    end_ms: int,
    llm_ids: Iterable[str] | None = None,
    bucket_ms: int = MINUTE_MS,
) -> list[AiStatsPoint]:
    """Usage buckets in ``[start_ms, end_ms)`` of configurations the user can see.

    ``bucket_ms`` of a minute returns the stored rows; a day sums minutes per day, per
    configuration, repository and key, except ``active_conversations``: the busiest minute's
    (distinct conversations do not add up across minutes). ``latency_ms`` is the mean per call.
    """
    params: list[Any] = [bucket_ms, bucket_ms, user_id, start_ms, end_ms]
    extra = ""
    ids = list(llm_ids) if llm_ids is not None else None
    if ids is not None:
        if not ids:
            return []
        extra = f" AND u.ai_llm_id IN ({', '.join('?' for _ in ids)})"
        params.extend(ids)
    sums = ", ".join(f"{'MAX' if c == 'active_conversations' else 'SUM'}(u.{c}) AS {c}"
                     for c in MINUTE_COUNTERS)
    rows = conn.execute(
        f"SELECT (u.minute / ?) * ? AS bucket, u.ai_llm_id, u.repo_id, u.repo_ai_api_key_id,"  # noqa: S608
        f" {sums}, SUM(u.latency_ms_total) AS latency_total, MAX(u.llm_type) AS llm_type,"
        " MAX(u.llm_model) AS llm_model, MAX(u.host) AS host"
        " FROM usage_minute u JOIN ai_llms a ON a.id = u.ai_llm_id"
        " JOIN memberships m ON m.workspace_id = a.workspace_id"
        f" WHERE m.user_id = ? AND u.minute >= ? AND u.minute < ?{extra}"
        " GROUP BY bucket, u.ai_llm_id, u.repo_id, u.repo_ai_api_key_id"
        " ORDER BY bucket, u.ai_llm_id",
        params,
    ).fetchall()
    points = []
    for r in rows:
        calls = r["api_calls"] or 0
        points.append(AiStatsPoint(
            timestamp=r["bucket"],
            repo_id=r["repo_id"] or None,
            ai_llm_id=r["ai_llm_id"],
            repo_ai_api_key_id=r["repo_ai_api_key_id"] or None,
            latency_ms=(r["latency_total"] / calls) if calls else 0.0,
            llm_type=r["llm_type"],
            llm_model=r["llm_model"],
            host=r["host"],
            **{c: r[c] or 0 for c in MINUTE_COUNTERS},
        ))
    return points
