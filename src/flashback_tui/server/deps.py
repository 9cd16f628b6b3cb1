"""Request dependencies: the platform state, the signed-in user, and access checks.

A caller who does not belong to a workspace gets 404 for it and for everything in it, so
existence is not revealed; a READ member who tries to write gets 403. Org OWNERs and
ADMINISTRATORS manage every workspace of their org (rename, delete, members), but reach
the configurations and repositories of a workspace only as its members.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Header, HTTPException, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from flashback_tui.api.models import ErrorResponse, OrgRole, Role
from flashback_tui.server.cache import AnswerCache, ItemJsonCache
from flashback_tui.server.config import ServerSettings
from flashback_tui.server.sql import Conn, Record
from flashback_tui.server.state import PlatformState
from flashback_tui.server.store import ai_llms as llm_store
from flashback_tui.server.store import events as event_store
from flashback_tui.server.store import users as user_store
from flashback_tui.server.store import workspaces as workspace_store

_bearer = HTTPBearer(auto_error=False, description="An access token from /user/login.")

LLM_NOT_FOUND = "AI LLM configuration not found"
WORKSPACE_NOT_FOUND = "workspace not found"
READ_ONLY = "your role in this workspace (READ) does not allow changes"
NOT_ORG_ADMIN = "only the org's OWNER or ADMINISTRATORS may do this"
NOT_WORKSPACE_ADMIN = ("only the org's OWNER or ADMINISTRATORS, or an ADMIN of this workspace,"
                       " may do this")

#: The ``workspaceId`` filter of list endpoints.
WorkspaceIdQuery = Annotated[str | None, Query(alias="workspaceId", max_length=64)]
#: The ETags a client already holds (conditional GET of a cached answer).
IfNoneMatch = Annotated[str | None, Header(alias="If-None-Match", max_length=4096,
                                           description="ETags the client holds: 304 if current")]


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for a router: each status answers ``ErrorResponse``."""
    return {status: {"model": ErrorResponse} for status in statuses}


@dataclass(frozen=True)
class CurrentUser:
    """The user behind the request's bearer token."""

    id: str
    email: str
    name: str | None
    org_id: str
    org_role: int

    @property
    def is_org_admin(self) -> bool:
        """OWNER or ADMINISTRATORS: manages every workspace of the org."""
        return self.org_role in (OrgRole.OWNER, OrgRole.ADMINISTRATORS)

    @property
    def actor(self) -> event_store.Actor:
        """This user as the author of a system event."""
        return event_store.Actor(id=self.id, org_id=self.org_id, name=self.name or "",
                                 email=self.email)


async def get_state(request: Request) -> PlatformState:
    """The opened data dir of this app (async: no threadpool hop for an attribute read)."""
    return request.app.state.platform


async def get_settings(request: Request) -> ServerSettings:
    """The settings this app was built with."""
    return request.app.state.settings


async def get_cache(request: Request) -> AnswerCache:
    """The app's cache of serialized list answers."""
    return request.app.state.answer_cache


async def get_item_cache(request: Request) -> ItemJsonCache:
    """The app's cache of serialized configuration items."""
    return request.app.state.item_cache


State = Annotated[PlatformState, Depends(get_state)]
Items = Annotated[ItemJsonCache, Depends(get_item_cache)]
Cache = Annotated[AnswerCache, Depends(get_cache)]
Settings = Annotated[ServerSettings, Depends(get_settings)]


def _unauthorized(message: str) -> HTTPException:
    return HTTPException(401, message, headers={"WWW-Authenticate": "Bearer"})


#: The raw ``Authorization: Bearer`` credentials, if any.
bearer_credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


async def current_user(state: State, credentials: bearer_credentials) -> CurrentUser:
    """The signed-in user; 401 when the token is missing, unknown or expired.

    Async on purpose: one primary-key read in WAL mode never waits on writers, and running
    it inline saves every request a trip through the threadpool.
    """
    if credentials is None or not credentials.credentials:
        raise _unauthorized("missing bearer token")
    row = user_store.user_for_token(state.db.conn(), credentials.credentials)
    if row is None:
        raise _unauthorized("invalid or expired token")
    return CurrentUser(id=row["id"], email=row["email"], name=row["name"], org_id=row["org_id"],
                       org_role=row["org_role"])


User = Annotated[CurrentUser, Depends(current_user)]


def require_workspace_role(
    conn: Conn, user: CurrentUser, workspace_id: str, *, write: bool
) -> Role:
    """The caller's role in a workspace: 404 if none, 403 if ``write`` and only READ."""
    role = workspace_store.role_in(conn, user.id, workspace_id)
    if role is None:
        raise HTTPException(404, WORKSPACE_NOT_FOUND)
    if write and not role.can_write:
        raise HTTPException(403, READ_ONLY)
    return role


def require_org_admin(user: CurrentUser) -> None:
    """403 unless the caller is the org's OWNER or one of its ADMINISTRATORS."""
    if not user.is_org_admin:
        raise HTTPException(403, NOT_ORG_ADMIN)


def require_workspace_manager(conn: Conn, user: CurrentUser, workspace_id: str,
                              *, org_admin_only: bool = False) -> workspace_store.WorkspaceRecord:
    """A workspace the caller may manage (rename, members; delete if ``org_admin_only``).

    404 if the caller neither belongs to it nor administers its org; 403 if they may see it
    but not manage it (org admins always may; a workspace ADMIN unless ``org_admin_only``).
    """
    ws = workspace_store.workspace_row(conn, workspace_id)
    org_admin = ws is not None and user.is_org_admin and ws.org_id == user.org_id
    role = workspace_store.role_in(conn, user.id, workspace_id) if ws is not None else None
    if ws is None or (role is None and not org_admin):
        raise HTTPException(404, WORKSPACE_NOT_FOUND)
    if org_admin:
        return ws
    if org_admin_only:
        raise HTTPException(403, NOT_ORG_ADMIN)
    if role is not Role.ADMIN:
        raise HTTPException(403, NOT_WORKSPACE_ADMIN)
    return ws


def require_row_access(
    conn: Conn,
    user: CurrentUser,
    row: Record | None,
    *,
    write: bool,
    not_found: str,
) -> Record:
    """A workspace-owned row the caller may see (404 otherwise), writable if ``write`` (403)."""
    role = workspace_store.role_in(conn, user.id, row["workspace_id"]) if row is not None else None
    if row is None or role is None:
        raise HTTPException(404, not_found)
    if write and not role.can_write:
        raise HTTPException(403, READ_ONLY)
    return row


def require_llm_access(
    conn: Conn, user: CurrentUser, llm_id: str, *, write: bool
) -> Record:
    """A configuration row the caller may see (404 otherwise), writable if ``write`` (403)."""
    return require_row_access(conn, user, llm_store.ai_llm_row(conn, llm_id), write=write,
                              not_found=LLM_NOT_FOUND)
