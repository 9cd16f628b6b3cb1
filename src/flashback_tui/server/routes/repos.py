"""``/repo``: repositories, the configurations they use, and their AI API keys.

READ members list; WRITE and ADMIN members create and delete. A caller outside the
repository's workspace gets 404 for it and everything under it.
"""

from __future__ import annotations

import sqlite3

from fastapi import APIRouter

from flashback_tui.api.models import (
    RepoAiApiKeyCreate,
    RepoAiApiKeyCreated,
    RepoAiApiKeyListResponse,
    RepoIdResponse,
    RepoListResponse,
    SuccessResponse,
)
from flashback_tui.api.models import (
    RepoWrite as RepoCreate,
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
from flashback_tui.server.store import repos as repo_store

_ERRORS = error_responses(400, 401, 403, 404, 500)

router = APIRouter(prefix="/repo", tags=["Repositories"], responses=_ERRORS)


def require_repo_access(conn: sqlite3.Connection, user: CurrentUser, repo_id: str, *,
                        write: bool) -> sqlite3.Row:
    """A repository row the caller may see (404 otherwise), writable if ``write`` (403)."""
    return require_row_access(conn, user, repo_store.repo_row(conn, repo_id), write=write,
                              not_found=repo_store.REPO_NOT_FOUND)


@router.post("", response_model=RepoIdResponse, summary="Create a repository")
def create_repo(body: RepoCreate, user: User, state: State) -> RepoIdResponse:
    """Create a repository linked to configurations of the same workspace."""
    conn = state.db.conn()
    require_workspace_role(conn, user, body.workspace_id, write=True)
    repo_id = repo_store.create_repo(conn, workspace_id=body.workspace_id, name=body.name,
                                      llm_ids=[link.ai_llm_id for link in body.repo_ai_llms])
    return RepoIdResponse(success=True, repo_id=repo_id, message="repository created")


@router.get("", response_model=RepoListResponse, summary="List repositories")
def list_repos(user: User, state: State, workspace_id: WorkspaceIdQuery = None
               ) -> RepoListResponse:
    """Repositories of every workspace the caller belongs to, or of one workspace."""
    conn = state.db.conn()
    if workspace_id is not None:
        require_workspace_role(conn, user, workspace_id, write=False)
    return RepoListResponse(success=True,
                            repos=repo_store.list_repos(conn, user.id, workspace_id))


@router.delete("/{repo_id}", response_model=SuccessResponse, summary="Delete a repository")
def delete_repo(repo_id: str, user: User, state: State) -> SuccessResponse:
    """Delete a repository with its links and AI API keys (its keys stop working at once)."""
    conn = state.db.conn()
    require_repo_access(conn, user, repo_id, write=True)
    repo_store.delete_repo(conn, repo_id)
    return SuccessResponse(success=True, message="repository deleted")


@router.post("/{repo_id}/ai/apikey", response_model=RepoAiApiKeyCreated,
             summary="Create an AI API key (its secret is shown only in this answer)")
def create_api_key(repo_id: str, body: RepoAiApiKeyCreate, user: User, state: State
                   ) -> RepoAiApiKeyCreated:
    """Issue a key for the gateway; only a digest of its secret is stored."""
    conn = state.db.conn()
    require_repo_access(conn, user, repo_id, write=True)
    issued = repo_store.create_api_key(conn, repo_id=repo_id, user_id=user.id,
                                        name=body.name, ai_type=body.ai_type)
    return RepoAiApiKeyCreated(success=True, id=issued.id, key=issued.key, secret=issued.secret,
                               message="store the secret now: it is not shown again")


@router.get("/{repo_id}/ai/apikey", response_model=RepoAiApiKeyListResponse,
            summary="List AI API keys (secrets masked)")
def list_api_keys(repo_id: str, user: User, state: State) -> RepoAiApiKeyListResponse:
    """The repository's keys with their public ids and masked secrets."""
    conn = state.db.conn()
    require_repo_access(conn, user, repo_id, write=False)
    return RepoAiApiKeyListResponse(success=True,
                                    api_keys=repo_store.list_api_keys(conn, repo_id))


@router.delete("/{repo_id}/ai/apikey/{key_id}", response_model=SuccessResponse,
               summary="Revoke an AI API key")
def delete_api_key(repo_id: str, key_id: str, user: User, state: State) -> SuccessResponse:
    """Revoke a key: the gateway refuses it from this answer on."""
    conn = state.db.conn()
    require_repo_access(conn, user, repo_id, write=True)
    repo_store.delete_api_key(conn, repo_id, key_id)
    return SuccessResponse(success=True, message="AI API key revoked")
