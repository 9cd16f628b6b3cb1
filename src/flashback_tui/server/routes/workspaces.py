"""``/workspace``: the workspaces the caller belongs to, with their members."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException

from flashback_tui.api.models import WorkspaceListResponse, WorkspaceResponse
from flashback_tui.server.deps import (
    WORKSPACE_NOT_FOUND,
    State,
    User,
    error_responses,
)
from flashback_tui.server.store import workspaces as workspace_store

_ERRORS = error_responses(400, 401, 404, 500)

router = APIRouter(prefix="/workspace", tags=["Workspaces"], responses=_ERRORS)


@router.get("", response_model=WorkspaceListResponse, summary="List my workspaces")
def list_workspaces(user: User, state: State) -> WorkspaceListResponse:
    """Every workspace the caller belongs to."""
    workspaces = workspace_store.workspaces_of(state.db.conn(), user.id)
    return WorkspaceListResponse(success=True, workspaces=workspaces)


@router.get("/{workspace_id}", response_model=WorkspaceResponse, summary="One workspace")
def get_workspace(workspace_id: str, user: User, state: State) -> WorkspaceResponse:
    """A workspace the caller belongs to; 404 otherwise."""
    found = workspace_store.workspaces_of(state.db.conn(), user.id, workspace_id)
    if not found:
        raise HTTPException(404, WORKSPACE_NOT_FOUND)
    return WorkspaceResponse(success=True, workspace=found[0])
