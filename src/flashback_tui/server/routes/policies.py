"""``/policy``: policies at organization, workspace or repository scope.

Org-wide policies (no ``workspaceId`` and no ``repoId``) are written by org OWNER and
ADMINISTRATORS; workspace and repository policies by the workspace's WRITE and ADMIN members
(and org administrators). A caller sees org-wide policies plus those of the workspaces they
belong to; org administrators see all. A ``re:`` rule that does not compile is a 400 naming
``content``; natural-language content is stored but not enforced locally. The literal
segments (violations, alerts, validate, recommend) are routed first
(:mod:`.policy_lists`).
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException

from flashback_tui.api.models import (
    NamedRef,
    PersonRef,
    Policy,
    PolicyCreate,
    PolicyListResponse,
    PolicyResponse,
    PolicyUpdate,
    SuccessResponse,
)
from flashback_tui.server.deps import (
    READ_ONLY,
    CurrentUser,
    State,
    User,
    error_responses,
)
from flashback_tui.server.routes.policy_lists import router as lists_router
from flashback_tui.server.sql import Conn
from flashback_tui.server.store import policies as policy_store
from flashback_tui.server.store import workspaces as workspace_store
from flashback_tui.server.store.policies import Person, PolicyRecord

router = APIRouter(prefix="/policy", tags=["Policies"],
                   responses=error_responses(400, 401, 403, 404, 500))
router.include_router(lists_router)  # literal segments before {policy_id}

ORG_ONLY = "only organization OWNER or ADMINISTRATORS may change organization-wide policies"


def _person(p: Person | None) -> PersonRef | None:
    return None if p is None else PersonRef(id=p.id, name=p.name, last_name=p.last_name,
                                            email=p.email)


def to_wire(r: PolicyRecord) -> Policy:
    """A stored policy as the wire model."""
    return Policy(
        id=r.id, org_id=r.org_id, name=r.name, content=r.content, risk_type=r.risk_type,
        action_type=r.action_type, created_by=_person(r.created_by),
        last_updated_by=_person(r.last_updated_by), created_at=r.created_at,
        last_updated_at=r.updated_at, workspace_id=r.workspace_id, repo_id=r.repo_id,
        workspace=NamedRef(id=r.workspace_id, name=r.workspace_name or "")
        if r.workspace_id else None,
        repo=NamedRef(id=r.repo_id, name=r.repo_name or "") if r.repo_id else None)


def _can_see(conn: Conn, user: CurrentUser, r: PolicyRecord) -> bool:
    if r.org_id != user.org_id:
        return False
    if r.workspace_id is None or policy_store.is_org_admin(user.org_role):
        return True
    return workspace_store.role_in(conn, user.id, r.workspace_id) is not None


def require_write(conn: Conn, user: CurrentUser, workspace_id: str | None
                  ) -> None:
    """403 unless the caller may write policies at this scope (404: workspace not theirs)."""
    if policy_store.is_org_admin(user.org_role):
        return
    if workspace_id is None:
        raise HTTPException(403, ORG_ONLY)
    role = workspace_store.role_in(conn, user.id, workspace_id)
    if role is None:
        raise HTTPException(404, "workspace not found")
    if not role.can_write:
        raise HTTPException(403, READ_ONLY)


def require_policy(conn: Conn, user: CurrentUser, policy_id: str, *,
                   write: bool) -> PolicyRecord:
    """A policy the caller may see (404 otherwise), writable if ``write`` (403)."""
    record = policy_store.get_policy(conn, policy_id)
    if record is None or not _can_see(conn, user, record):
        raise HTTPException(404, policy_store.POLICY_NOT_FOUND)
    if write:
        require_write(conn, user, record.workspace_id)
    return record


@router.post("", response_model=PolicyResponse, summary="Create a policy")
def create_policy(body: PolicyCreate, user: User, state: State) -> PolicyResponse:
    """Create a policy for the org, a workspace or a repository."""
    conn = state.db.conn()
    if body.org_id != user.org_id:
        raise HTTPException(404, "organization not found")
    if body.workspace_id is not None and not policy_store.is_org_admin(user.org_role):
        require_write(conn, user, body.workspace_id)  # before revealing anything else
    workspace_id, repo_id = policy_store.resolve_scope(conn, user.org_id, body.workspace_id,
                                                       body.repo_id)
    require_write(conn, user, workspace_id)
    policy_id = policy_store.create_policy(
        conn, org_id=user.org_id, workspace_id=workspace_id, repo_id=repo_id, user_id=user.id,
        name=body.name, content=body.content, risk_type=body.risk_type,
        action_type=body.action_type)
    record = policy_store.get_policy(conn, policy_id)
    assert record is not None
    return PolicyResponse(success=True, policy=to_wire(record))


@router.get("", response_model=PolicyListResponse, summary="List policies")
def list_policies(user: User, state: State, orgId: str | None = None,
                  workspaceId: str | None = None, repoId: str | None = None,
                  ) -> PolicyListResponse:
    """The org's policies the caller may see, narrowed to a workspace or repository."""
    conn = state.db.conn()
    if orgId and orgId != user.org_id:
        return PolicyListResponse(success=True, policies=[])
    visible = (None if policy_store.is_org_admin(user.org_role)
               else policy_store.member_workspaces(conn, user.id))
    records = policy_store.list_policies(conn, user.org_id, visible_workspaces=visible,
                                         workspace_id=workspaceId or None,
                                         repo_id=repoId or None)
    return PolicyListResponse(success=True, policies=[to_wire(r) for r in records])


@router.get("/{policy_id}", response_model=PolicyResponse, summary="One policy")
def get_policy(policy_id: str, user: User, state: State) -> PolicyResponse:
    """A policy the caller can see."""
    return PolicyResponse(success=True, policy=to_wire(
        require_policy(state.db.conn(), user, policy_id, write=False)))


@router.put("/{policy_id}", response_model=PolicyResponse, summary="Update a policy")
def update_policy(policy_id: str, body: PolicyUpdate, user: User, state: State
                  ) -> PolicyResponse:
    """Partial update; the gateway applies it from the next request on."""
    conn = state.db.conn()
    require_policy(conn, user, policy_id, write=True)
    policy_store.update_policy(conn, policy_id, body.given_fields(), user.id)
    record = policy_store.get_policy(conn, policy_id)
    assert record is not None
    return PolicyResponse(success=True, policy=to_wire(record))


@router.delete("/{policy_id}", response_model=SuccessResponse, summary="Delete a policy")
def delete_policy(policy_id: str, user: User, state: State) -> SuccessResponse:
    """Delete a policy (its violations and alerts are kept)."""
    conn = state.db.conn()
    require_policy(conn, user, policy_id, write=True)
    policy_store.delete_policy(conn, policy_id)
    return SuccessResponse(success=True, message="policy deleted")
