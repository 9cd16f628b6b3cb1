"""AI LLM configurations: their sealed credentials, validation outcomes and listing."""

from __future__ import annotations

import hmac
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from pydantic import SecretStr, TypeAdapter

from flashback_tui.api.models import (
    DEFAULT_ENDPOINTS,
    AiLlm,
    AiLlmStats,
    AiType,
    mask_key,
)
from flashback_tui.server.crypto import CryptoError, Keyring, Sealed, associated_data
from flashback_tui.server.db import transaction
from flashback_tui.server.store.base import (
    Conflict,
    InUse,
    Invalid,
    NotFound,
    is_unique_violation,
    new_id,
    now_iso,
)

#: What the first start on an empty data dir creates.
LOCAL_ADMIN_EMAIL = "admin@localhost"
DEFAULT_WORKSPACE = "Default"
DEFAULT_ORG = "Local"

#: Validates a list of ``AiLlm`` wire dicts in one pass.
AI_LLM_LIST = TypeAdapter(list[AiLlm])
_STATS_LIST = TypeAdapter(list[AiLlmStats])


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
            if is_unique_violation(exc):
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
            if is_unique_violation(exc):
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
