"""``/workspace``: workspaces and their members.

Who may do what:

- list (``GET /workspace``): the workspaces the caller belongs to, whatever the org role, so
  every listed workspace carries the caller's own membership role;
- one (``GET /workspace/{id}``): its members, and also the org's OWNER and ADMINISTRATORS;
- create: OWNER and ADMINISTRATORS (the creator becomes the workspace's ADMIN);
- rename: OWNER and ADMINISTRATORS;
- the member calls: OWNER, ADMINISTRATORS and the workspace's ADMINs;
- delete: OWNER and ADMINISTRATORS, and only a workspace without configurations or
  repositories.

Anyone else gets 404 for a workspace they cannot see and 403 for one they cannot manage.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException

from flashback_tui.api.models import (
    MemberAdd,
    MemberRoleUpdate,
    SuccessOnly,
    UserInfo,
    Workspace,
    WorkspaceCreate,
    WorkspaceListResponse,
    WorkspaceRef,
    WorkspaceRefResponse,
    WorkspaceResponse,
    WorkspaceUpdate,
    WorkspaceUser,
)
from flashback_tui.server.deps import (
    WORKSPACE_NOT_FOUND,
    State,
    User,
    error_responses,
    require_org_admin,
    require_workspace_manager,
)
from flashback_tui.server.store import workspaces as workspace_store

_ERRORS = error_responses(400, 401, 403, 404, 500)

router = APIRouter(prefix="/workspace", tags=["Workspaces"], responses=_ERRORS)


def _member(m: workspace_store.MemberRecord) -> WorkspaceUser:
    info = UserInfo(id=m.user_id, name=m.name, last_name=m.last_name, email=m.email,
                    org_role=m.org_role)
    return WorkspaceUser(user_id=m.user_id, role=m.role, user=info)


def _workspace(ws: workspace_store.WorkspaceRecord) -> Workspace:
    return Workspace(id=ws.id, name=ws.name, org_id=ws.org_id,
                     users=[_member(m) for m in ws.members])


def _ref(ws: workspace_store.WorkspaceRecord) -> WorkspaceRefResponse:
    return WorkspaceRefResponse(success=True,
                                workspace=WorkspaceRef(id=ws.id, name=ws.name, org_id=ws.org_id))


@router.get("", response_model=WorkspaceListResponse, summary="List my workspaces")
def list_workspaces(user: User, state: State) -> WorkspaceListResponse:
    """Every workspace the caller belongs to, with its members."""
    workspaces = workspace_store.workspaces_of(state.db.conn(), user.id)
    return WorkspaceListResponse(success=True, workspaces=[_workspace(w) for w in workspaces])


@router.post("", response_model=WorkspaceRefResponse, summary="Create a workspace")
def create_workspace(body: WorkspaceCreate, user: User, state: State) -> WorkspaceRefResponse:
    """OWNER and ADMINISTRATORS only; the name is unique in the org (any letter case)."""
    require_org_admin(user)
    conn = state.db.conn()
    ws_id = workspace_store.create_workspace(conn, body.name, org_id=user.org_id,
                                             actor=user.actor, admin_id=user.id)
    return _ref(workspace_store.WorkspaceRecord(id=ws_id, name=body.name, org_id=user.org_id))


@router.get("/{workspace_id}", response_model=WorkspaceResponse, summary="One workspace")
def get_workspace(workspace_id: str, user: User, state: State) -> WorkspaceResponse:
    """A workspace the caller belongs to (or whose org they administer); 404 otherwise."""
    conn = state.db.conn()
    ws = workspace_store.workspace_with_members(conn, workspace_id)
    member = ws is not None and any(m.user_id == user.id for m in ws.members)
    org_admin = ws is not None and user.is_org_admin and ws.org_id == user.org_id
    if ws is None or not (member or org_admin):
        raise HTTPException(404, WORKSPACE_NOT_FOUND)
    return WorkspaceResponse(success=True, workspace=_workspace(ws))


@router.put("/{workspace_id}", response_model=WorkspaceRefResponse, summary="Rename")
def update_workspace(workspace_id: str, body: WorkspaceUpdate, user: User, state: State
                     ) -> WorkspaceRefResponse:
    """Rename (an omitted name keeps it); the org's OWNER and ADMINISTRATORS only."""
    conn = state.db.conn()
    require_workspace_manager(conn, user, workspace_id, org_admin_only=True)
    return _ref(workspace_store.rename_workspace(conn, workspace_id, body.name,
                                                 actor=user.actor))


@router.delete("/{workspace_id}", response_model=SuccessOnly, summary="Delete a workspace")
def delete_workspace(workspace_id: str, user: User, state: State) -> SuccessOnly:
    """Org admins only; 403 naming what is left while it holds anything."""
    conn = state.db.conn()
    require_workspace_manager(conn, user, workspace_id, org_admin_only=True)
    workspace_store.delete_workspace(conn, workspace_id, actor=user.actor)
    return SuccessOnly(success=True)


@router.post("/{workspace_id}/users", response_model=SuccessOnly, summary="Add a member")
def add_member(workspace_id: str, body: MemberAdd, user: User, state: State) -> SuccessOnly:
    """Add a user of the org with a role; 404 for an unknown user, 400 for a member."""
    conn = state.db.conn()
    require_workspace_manager(conn, user, workspace_id)
    workspace_store.add_member(conn, workspace_id, body.user_id, body.role, actor=user.actor)
    return SuccessOnly(success=True)


@router.put("/{workspace_id}/users/{user_id}", response_model=SuccessOnly,
            summary="Change a member's role")
def change_member(workspace_id: str, user_id: str, body: MemberRoleUpdate, user: User,
                  state: State) -> SuccessOnly:
    """Change a role; 403 when it would leave the workspace without an ADMIN."""
    conn = state.db.conn()
    require_workspace_manager(conn, user, workspace_id)
    workspace_store.change_member_role(conn, workspace_id, user_id, body.role,
                                       actor=user.actor)
    return SuccessOnly(success=True)


@router.delete("/{workspace_id}/users/{user_id}", response_model=SuccessOnly,
               summary="Remove a member")
def remove_member(workspace_id: str, user_id: str, user: User, state: State) -> SuccessOnly:
    """Remove a member; 403 for the last ADMIN."""
    conn = state.db.conn()
    require_workspace_manager(conn, user, workspace_id)
    workspace_store.remove_member(conn, workspace_id, user_id, actor=user.actor)
    return SuccessOnly(success=True)
