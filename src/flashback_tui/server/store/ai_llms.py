"""AI LLM configurations: create, list, update, delete, and their validation outcomes.

Every change records one system event in its own transaction. The sealed credentials and the
rule of where a stored secret may go live in :mod:`.llm_credentials` (re-exported here).
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from pydantic import SecretStr

from flashback_tui.api.models import DEFAULT_ENDPOINTS, AiType, mask_key
from flashback_tui.domain.origins import changes_origin_or_type
from flashback_tui.server.crypto import CryptoError, Keyring
from flashback_tui.server.sql import Conn, IntegrityError, Record, transaction
from flashback_tui.server.store import events
from flashback_tui.server.store.base import (
    Conflict,
    InUse,
    Invalid,
    NotFound,
    is_unique_violation,
    new_id,
    now_iso,
)
from flashback_tui.server.store.events import Actor
from flashback_tui.server.store.llm_credentials import (
    SECRET_NOT_BOUND,
    Credentials,
    load_credentials,
    open_sealed,
    reseal_all,
    resolve_endpoint,
    seal,
    secret_bound_to,
)

__all__ = [
    "SECRET_NOT_BOUND", "AiLlmRecord", "Credentials", "RepoLink", "ai_llm_records", "ai_llm_row",
    "create_ai_llm", "delete_ai_llm", "load_credentials", "record_validation", "reseal_all",
    "resolve_endpoint", "secret_bound_to", "update_ai_llm", "visible_llm_ids",
]

#: Why an update that moves a stored secret elsewhere is refused.
SECRET_AGAIN = ("secret: moving this configuration to another host (or provider type) needs"
                " its secret again, so a stored secret never goes where it was not given")

_LLM_COLUMNS = (
    "a.id, a.org_id, a.workspace_id, a.user_id, a.name, a.ai_type, a.endpoint, a.key_mask,"
    " a.api_key_id, a.created_at, a.validation_status, a.validation_message, a.validated_at,"
    " a.generation, a.validated_generation"
)


class RepoLink(NamedTuple):
    """A repository that uses a configuration."""

    id: str
    name: str
    created_at: str


class AiLlmRecord(NamedTuple):
    """One configuration as listed (never its secret). Hashable: equal records list equally.

    ``validation_status`` is already that of the current generation (an outcome for an older
    one reads as ``NOT_VALIDATED`` with no message or time).
    """

    id: str
    org_id: str
    workspace_id: str
    user_id: str | None
    name: str
    ai_type: str
    endpoint: str | None
    key_mask: str | None
    api_key_id: str | None
    created_at: str
    validation_status: str
    validation_message: str | None
    validated_at: str | None
    repos: tuple[RepoLink, ...]


def _record(row: tuple[Any, ...], repos: tuple[RepoLink, ...]) -> AiLlmRecord:
    (llm_id, org_id, workspace_id, user_id, name, ai_type, endpoint, key_mask, api_key_id,
     created_at, status, message, validated_at, generation, validated_generation) = row
    if status != "NOT_VALIDATED" and validated_generation != generation:
        status = "NOT_VALIDATED"
    validated = status != "NOT_VALIDATED"
    return AiLlmRecord(llm_id, org_id, workspace_id, user_id, name, ai_type, endpoint, key_mask,
                       api_key_id, created_at, status, message if validated else None,
                       validated_at if validated else None, repos)


def ai_llm_row(conn: Conn, llm_id: str) -> Record | None:
    """The raw row of a configuration (sealed columns included), or None."""
    return conn.execute("SELECT * FROM ai_llms WHERE id = ?", (llm_id,)).fetchone()


def _check_name_free(conn: Conn, workspace_id: str, name: str,
                     llm_id: str) -> None:
    """Conflict when another configuration of the workspace has ``name`` (any letter case)."""
    taken = conn.execute(
        "SELECT 1 FROM ai_llms WHERE workspace_id = ? AND lower(name) = lower(?) AND id != ?",
        (workspace_id, name, llm_id)).fetchone()
    if taken is not None:
        raise Conflict(f"name: a configuration named {name!r} already exists in this workspace")


def create_ai_llm(
    conn: Conn,
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
    actor: Actor | None = None,
) -> str:
    """Insert a configuration with its key and secret sealed; Conflict on a duplicate name."""
    endpoint = resolve_endpoint(ai_type, endpoint)
    llm_id = new_id()
    key_kid, key_blob = seal(keyring, key, llm_id, "key")
    secret_kid, secret_blob = seal(keyring, secret, llm_id, "secret")
    now = now_iso()
    with transaction(conn):
        ws = conn.execute("SELECT org_id FROM workspaces WHERE id = ?", (workspace_id,)
                          ).fetchone()
        if ws is None:
            raise NotFound("workspace not found")
        _check_name_free(conn, workspace_id, name, llm_id)
        try:
            conn.execute(
                "INSERT INTO ai_llms (id, org_id, workspace_id, user_id, name, ai_type, endpoint,"
                " key_mask, key_kid, key_blob, secret_kid, secret_blob, api_key_id, created_at,"
                " updated_at, secret_endpoint, secret_ai_type)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (llm_id, ws["org_id"], workspace_id, user_id, name, ai_type.value, endpoint,
                 mask_key(key.get_secret_value()) if key else None, key_kid, key_blob,
                 secret_kid, secret_blob, api_key_id, now, now, endpoint, ai_type.value),
            )
        except IntegrityError as exc:
            if is_unique_violation(exc):
                raise Conflict(
                    f"name: a configuration named {name!r} already exists in this workspace"
                ) from None
            raise
        events.record(conn, actor, context=events.AI_LLM, context_id=llm_id,
                      event=events.CREATED, workspace_id=workspace_id, org_id=ws["org_id"])
    return llm_id


def ai_llm_records(
    conn: Conn,
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
    rows = conn.tuples(
        f"SELECT {_LLM_COLUMNS} FROM ai_llms a"  # noqa: S608
        " JOIN memberships m ON m.workspace_id = a.workspace_id"
        f" WHERE {clause} ORDER BY a.created_at DESC, a.rowid DESC",
        params,
    )
    repos = _repos_by_llm(conn, clause, params)
    return [_record(row, repos.get(row[0], ())) for row in rows]


def visible_llm_ids(conn: Conn, user_id: str, llm_ids: Iterable[str]) -> set[str]:
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


def _repos_by_llm(conn: Conn, clause: str, params: list[Any]
                  ) -> dict[str, tuple[RepoLink, ...]]:
    rows = conn.tuples(
        "SELECT l.ai_llm_id, r.id, r.name, r.created_at FROM repo_ai_llms l"  # noqa: S608
        " JOIN repos r ON r.id = l.repo_id"
        " JOIN ai_llms a ON a.id = l.ai_llm_id"
        " JOIN memberships m ON m.workspace_id = a.workspace_id"
        f" WHERE {clause} ORDER BY r.name",
        params,
    )
    out: dict[str, list[RepoLink]] = {}
    for llm_id, repo_id, name, created_at in rows:
        out.setdefault(llm_id, []).append(RepoLink(repo_id, name, created_at))
    return {llm_id: tuple(repos) for llm_id, repos in out.items()}


class _Plan:
    """The columns an update sets, the wire fields it changes, and whether it unvalidates."""

    def __init__(self) -> None:
        self.sets: dict[str, Any] = {}
        self.changed: list[str] = []
        self.unvalidates = False

    def set(self, field: str, columns: Mapping[str, Any], *, credential: bool) -> None:
        self.sets.update(columns)
        self.changed.append(field)
        self.unvalidates = self.unvalidates or credential


def _new_endpoint(row: Record, changes: Mapping[str, Any], old_type: AiType,
                  new_type: AiType) -> str:
    """Where the configuration points after the update (``endpoint: null``: the default)."""
    old_endpoint = row["endpoint"] or DEFAULT_ENDPOINTS.get(old_type)
    if "endpoint" in changes:
        return resolve_endpoint(new_type, changes["endpoint"])
    if new_type != old_type and old_endpoint == DEFAULT_ENDPOINTS.get(old_type):
        return resolve_endpoint(new_type, None)  # the old default follows the type
    return old_endpoint or resolve_endpoint(new_type, None)


def _bind_secret(row: Record, changes: Mapping[str, Any], endpoint: str,
                 ai_type: AiType) -> dict[str, str]:
    """The new ``secret_endpoint``/``secret_ai_type`` columns (empty: unchanged).

    Invalid when the update would take a stored secret to another origin or provider type
    without giving it again; a reset to the type's official endpoint is allowed.
    """
    rebind = {"secret_endpoint": endpoint, "secret_ai_type": ai_type.value}
    if changes.get("secret") is not None or row["secret_blob"] is None:
        return rebind
    bound_endpoint = row["secret_endpoint"] or row["endpoint"]
    bound_type = row["secret_ai_type"] or row["ai_type"]
    if not changes_origin_or_type(bound_endpoint, bound_type, endpoint, ai_type.value):
        return {}
    official = DEFAULT_ENDPOINTS.get(ai_type)
    if ai_type.value == row["ai_type"] == bound_type and endpoint == official:
        return rebind
    raise Invalid(SECRET_AGAIN)


def _plan_credential(plan: _Plan, keyring: Keyring, row: Record, field: str,
                     new_value: SecretStr | None) -> None:
    """Add a new key or secret to ``plan`` unless it equals the stored one."""
    try:
        old_value = open_sealed(keyring, row[f"{field}_kid"], row[f"{field}_blob"], row["id"],
                                field)
        if _same_secret(old_value, new_value):
            return
    except CryptoError:  # unreadable (lost key, damaged row): a new value repairs it
        pass
    kid, blob = seal(keyring, new_value, row["id"], field)
    columns: dict[str, Any] = {f"{field}_kid": kid, f"{field}_blob": blob}
    if field == "key":
        columns["key_mask"] = mask_key(new_value.get_secret_value()) if new_value else None
    plan.set(field, columns, credential=True)


def _plan_update(keyring: Keyring, row: Record, changes: Mapping[str, Any]) -> _Plan:
    plan = _Plan()
    old_type = AiType(row["ai_type"])
    new_type: AiType = changes.get("ai_type") or old_type
    endpoint = _new_endpoint(row, changes, old_type, new_type)
    binding = _bind_secret(row, changes, endpoint, new_type)
    if new_type != old_type:
        plan.set("aiType", {"ai_type": new_type.value}, credential=True)
    if endpoint != row["endpoint"]:
        plan.set("endpoint", {"endpoint": endpoint}, credential=True)
    for field in ("key", "secret"):
        if field in changes:
            _plan_credential(plan, keyring, row, field, changes[field])
    if binding and (plan.unvalidates or binding["secret_endpoint"] != row["secret_endpoint"]):
        plan.sets.update(binding)
    if "name" in changes and changes["name"] != row["name"]:
        plan.set("name", {"name": changes["name"]}, credential=False)
    if "api_key_uuid" in changes and changes["api_key_uuid"] != row["api_key_id"]:
        plan.set("apiKeyUuid", {"api_key_id": changes["api_key_uuid"]}, credential=False)
    return plan


def update_ai_llm(
    conn: Conn, keyring: Keyring, llm_id: str, changes: Mapping[str, Any],
    actor: Actor | None = None,
) -> bool:
    """Apply a partial update; returns True if the configuration became unvalidated.

    ``changes`` holds only the fields the caller sent (python names of AiLlmUpdate). A change
    of endpoint, aiType, key or secret bumps the generation, which invalidates any stored
    validation outcome.
    """
    row = ai_llm_row(conn, llm_id)
    if row is None:
        raise NotFound("configuration not found")
    plan = _plan_update(keyring, row, changes)
    with transaction(conn):
        if "name" in plan.sets:
            _check_name_free(conn, row["workspace_id"], plan.sets["name"], llm_id)
        if plan.sets:
            _write_update(conn, row, plan)
        events.record(conn, actor, context=events.AI_LLM, context_id=llm_id,
                      event=events.UPDATED, workspace_id=row["workspace_id"],
                      changed=plan.changed, org_id=row["org_id"])
    return plan.unvalidates


def _write_update(conn: Conn, row: Record, plan: _Plan) -> None:
    sets = {**plan.sets, "updated_at": now_iso()}
    assignments = ", ".join(f"{column} = ?" for column in sets)
    bump = (", generation = generation + 1, validation_status = 'NOT_VALIDATED',"
            " validation_message = NULL, validated_at = NULL, validated_generation = NULL"
            if plan.unvalidates else "")
    try:
        cursor = conn.execute(
            f"UPDATE ai_llms SET {assignments}{bump} WHERE id = ? AND generation = ?",  # noqa: S608
            [*sets.values(), row["id"], row["generation"]],
        )
    except IntegrityError as exc:
        if is_unique_violation(exc):
            raise Conflict(f"name: a configuration named {plan.sets.get('name')!r} already"
                           " exists in this workspace") from None
        raise
    if cursor.rowcount == 0:
        raise Conflict("the configuration changed meanwhile; try again")


def _same_secret(old: SecretStr | None, new: SecretStr | None) -> bool:
    if old is None or new is None:
        return old is None and new is None
    return hmac.compare_digest(old.get_secret_value().encode(), new.get_secret_value().encode())


def delete_ai_llm(conn: Conn, llm_id: str, actor: Actor | None = None) -> None:
    """Remove a configuration and its sealed credentials; InUse while a repo links it."""
    with transaction(conn):
        row = conn.execute("SELECT workspace_id, org_id FROM ai_llms WHERE id = ?",
                           (llm_id,)).fetchone()
        if row is None:
            raise NotFound("configuration not found")
        names = [r[0] for r in conn.execute(
            "SELECT r.name FROM repo_ai_llms l JOIN repos r ON r.id = l.repo_id"
            " WHERE l.ai_llm_id = ? ORDER BY r.name", (llm_id,))]
        if names:
            listed = ", ".join(repr(name) for name in names)
            raise InUse(f"the configuration is used by the repositor"
                        f"{'y' if len(names) == 1 else 'ies'} {listed}; unlink it first")
        conn.execute("DELETE FROM ai_llms WHERE id = ?", (llm_id,))
        events.record(conn, actor, context=events.AI_LLM, context_id=llm_id,
                      event=events.DELETED, workspace_id=row["workspace_id"],
                      org_id=row["org_id"])


def record_validation(
    conn: Conn, llm_id: str, generation: int, success: bool, message: str
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
