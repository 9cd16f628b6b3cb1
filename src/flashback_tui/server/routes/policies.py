"""``/policy``: workspace policies that the gateway checks every prompt against.

READ members list and view; WRITE and ADMIN members create, update and delete. A rule that
cannot be used (see :mod:`flashback_tui.server.policies`) is a 400 naming ``content``.
"""

from __future__ import annotations

import sqlite3

from fastapi import APIRouter

from flashback_tui.api.models import (
    PolicyCreate,
    PolicyListResponse,
    PolicyResponse,
    PolicyUpdate,
    SuccessResponse,
)
from flashback_tui.api.models import (
    PolicyResponse as PolicyIdResponse,
)
from flashback_tui.server.deps import (
    CurrentUser,
    State,
    User,
    WorkspaceIdQuery,
    error_responses,
    require_row_access,
    require_workspace_role,
)
from flashback_tui.server.store import policies as policy_store

_ERRORS = error_responses(400, 401, 403, 404, 500)

router = APIRouter(prefix="/policy", tags=["Policies"], responses=_ERRORS)


def require_policy_access(conn: sqlite3.Connection, user: CurrentUser, policy_id: str, *,
                          write: bool) -> sqlite3.Row:
    """A policy row the caller may see (404 otherwise), writable if ``write`` (403)."""
    return require_row_access(conn, user, policy_store.policy_row(conn, policy_id), write=write,
                              not_found=policy_store.POLICY_NOT_FOUND)


@router.post("", response_model=PolicyIdResponse, summary="Create a policy")
def create_policy(body: PolicyCreate, user: User, state: State) -> PolicyIdResponse:
    """Create a policy in a workspace where the caller may write."""
    conn = state.db.conn()
    require_workspace_role(conn, user, body.workspace_id, write=True)
    policy_id = policy_store.create_policy(
        conn, workspace_id=body.workspace_id, user_id=user.id, name=body.name,
        content=body.content, risk_type=body.risk_type, action_type=body.action_type,
    )
    return PolicyIdResponse(success=True, policy_id=policy_id, message="policy created")


@router.get("", response_model=PolicyListResponse, summary="List policies")
def list_policies(user: User, state: State, workspace_id: WorkspaceIdQuery = None
                  ) -> PolicyListResponse:
    """Policies of every workspace the caller belongs to, or of one workspace."""
    conn = state.db.conn()
    if workspace_id is not None:
        require_workspace_role(conn, user, workspace_id, write=False)
    return PolicyListResponse(success=True,
                              policies=policy_store.list_policies(conn, user.id, workspace_id))


@router.get("/{policy_id}", response_model=PolicyResponse, summary="One policy")
def get_policy(policy_id: str, user: User, state: State) -> PolicyResponse:
    """A policy the caller can see."""
    row = require_policy_access(state.db.conn(), user, policy_id, write=False)
    return PolicyResponse(success=True, policy=policy_store.get_policy(row))


@router.put("/{policy_id}", response_model=PolicyIdResponse, summary="Update a policy")
def update_policy(policy_id: str, body: PolicyUpdate, user: User, state: State
                  ) -> PolicyIdResponse:
    """Partial update; the gateway applies it from this answer on."""
    conn = state.db.conn()
    require_policy_access(conn, user, policy_id, write=True)
    changes = body.given_fields()
    policy_store.update_policy(conn, policy_id, changes)
    return PolicyIdResponse(success=True, policy_id=policy_id, message="policy updated")


@router.delete("/{policy_id}", response_model=SuccessResponse, summary="Delete a policy")
def delete_policy(policy_id: str, user: User, state: State) -> SuccessResponse:
    """Delete a policy."""
    conn = state.db.conn()
    require_policy_access(conn, user, policy_id, write=True)
    policy_store.delete_policy(conn, policy_id)
    return SuccessResponse(success=True, message="policy deleted")
