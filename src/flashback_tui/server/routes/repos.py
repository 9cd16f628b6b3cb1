"""``/repo``: repositories, the configurations they use, and their AI API keys.

READ members list; WRITE and ADMIN members create, change and delete. A caller outside the
repository's workspace gets 404 for it and everything under it. Create and update answer
errors in the repositories' own shape (see :class:`RepoErrorRoute`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException

from flashback_tui.api.models import (
    AiLlm,
    Repo,
    RepoAiApiKey,
    RepoAiApiKeyCreate,
    RepoAiApiKeyCreated,
    RepoAiApiKeyListResponse,
    RepoAiApiKeyUpdate,
    RepoAiLlmInfo,
    RepoIdResponse,
    RepoListResponse,
    RepoWrite,
    SuccessResponse,
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
from flashback_tui.server.routes.ai_llm_wire import ai_llm_wire
from flashback_tui.server.sql import Conn, Record
from flashback_tui.server.store import ai_llms as llm_store
from flashback_tui.server.store import base as store_base
from flashback_tui.server.store import repos as repo_store
from flashback_tui.server.store.events import Actor

_ERRORS = error_responses(400, 401, 403, 404, 500)
_REPO_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": RepoIdResponse} for status in (400, 401, 403, 404, 500)}

#: Reads, deletes and AI keys (generic error shape).
reads = APIRouter(prefix="/repo", tags=["Repositories"], responses=_ERRORS)

RepoIdQuery = Annotated[str | None, Query(alias="repoId", max_length=64)]
WalletQuery = Annotated[str | None, Query(alias="walletAddress", max_length=256)]


# ---------------------------------------------------------------------------------------------
# The repository error shape
# ---------------------------------------------------------------------------------------------


def _exception_handler(request: Request, exc: Exception) -> Callable[..., Any] | None:
    """The app's handler for ``exc`` (by class hierarchy, as Starlette looks it up)."""
    handlers = request.app.exception_handlers
    return next((handlers[cls] for cls in type(exc).__mro__ if cls in handlers), None)


def _error_code(exc: Exception, status: int) -> str | None:
    if isinstance(exc, store_base.Conflict):
        return "NAME_ALREADY_USED"
    return "NOT_FOUND" if status == 404 else None


class RepoErrorRoute(APIRoute):
    """A route whose errors answer ``{success: false, repoId, error_code?, error_message}``.

    The app's own handlers still decide status and message (so 400s name the field as
    everywhere else); this only reshapes their body. ``repoId`` is the path's, else ``""``.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                return await handle(request)
            except (RequestValidationError, StarletteHTTPException,
                    store_base.StoreError) as exc:
                build = _exception_handler(request, exc)
                if build is None:
                    raise
                generic = await build(request, exc)
                message = json.loads(generic.body).get("message", "")
                body = RepoIdResponse(
                    success=False, repo_id=request.path_params.get("repo_id", ""),
                    error_code=_error_code(exc, generic.status_code), error_message=message)
                return JSONResponse(body.model_dump(mode="json", by_alias=True),
                                    status_code=generic.status_code)

        return handler


#: Create and update (the repository error shape).
writes = APIRouter(prefix="/repo", tags=["Repositories"], route_class=RepoErrorRoute,
                   responses=_REPO_ERRORS)


# ---------------------------------------------------------------------------------------------
# Repositories
# ---------------------------------------------------------------------------------------------


def actor_of(user: CurrentUser) -> Actor:
    """The audit-trail actor of the signed-in user."""
    return Actor(id=user.id, org_id=user.org_id, name=user.name or "", email=user.email)


def require_repo_access(conn: Conn, user: CurrentUser, repo_id: str, *,
                        write: bool) -> Record:
    """A repository row the caller may see (404 otherwise), writable if ``write`` (403)."""
    return require_row_access(conn, user, repo_store.repo_row(conn, repo_id), write=write,
                              not_found=repo_store.REPO_NOT_FOUND)


def _fields(body: RepoWrite, *, create: bool) -> repo_store.RepoFields:
    """The store's view of a body; on update, an omitted optional field keeps its value."""
    given = body.model_fields_set
    keep = repo_store.KEEP
    llm_ids: list[str] | Any = keep
    if body.repo_ai_llms is not None:
        llm_ids = []
        for index, link in enumerate(body.repo_ai_llms):
            target = link.target_id()
            if target is None:
                raise store_base.Invalid(f"repoAiLlms.{index}: name the configuration as"
                                         " aiLlmId or aiLlm.id")
            llm_ids.append(target)
    buckets = body.repo_buckets if body.repo_buckets is not None else body.repo_units
    return repo_store.RepoFields(
        name=body.name, storage_type=body.storage_type.value, mode=body.mode.value,
        llm_ids=llm_ids, buckets=keep if buckets is None and not create else (buckets or []),
        wallet_address=(body.wallet_address if "wallet_address" in given or create else keep),
    )


@writes.post("", response_model=RepoIdResponse, summary="Create a repository")
def create_repo(body: RepoWrite, user: User, state: State) -> RepoIdResponse:
    """Create a repository, linked to configurations of the same workspace."""
    conn = state.db.conn()
    require_workspace_role(conn, user, body.workspace_id, write=True)
    repo_id = repo_store.create_repo(conn, actor_of(user), workspace_id=body.workspace_id,
                                      fields=_fields(body, create=True))
    return RepoIdResponse(success=True, repo_id=repo_id)


@writes.put("/{repo_id}", response_model=RepoIdResponse, summary="Update a repository")
def update_repo(repo_id: str, body: RepoWrite, user: User, state: State) -> RepoIdResponse:
    """Replace a repository's fields; ``repoAiLlms``, when sent, replaces its AI links."""
    conn = state.db.conn()
    require_repo_access(conn, user, repo_id, write=True)
    repo_store.update_repo(conn, actor_of(user), repo_id, workspace_id=body.workspace_id,
                           fields=_fields(body, create=False))
    return RepoIdResponse(success=True, repo_id=repo_id)


def _repo_wire(record: repo_store.RepoRecord, llms: dict[str, AiLlm]) -> Repo:
    return Repo(
        id=record.id, name=record.name, workspace_id=record.workspace_id,
        storage_type=record.storage_type, mode=record.mode, created_at=record.created_at,
        buckets=record.buckets, wallet_address=record.wallet_address,
        ai_llms=[RepoAiLlmInfo(ai_llm_id=llm_id, ai_llm=llms.get(llm_id))
                 for llm_id in record.llm_ids],
        ai_api_keys=[_key_wire(key) for key in record.keys],
    )


def _key_wire(key: repo_store.ApiKeyRecord) -> RepoAiApiKey:
    return RepoAiApiKey(id=key.id, name=key.name, repo_id=key.repo_id, key=key.public_key,
                        ai_type=key.ai_type, created_at=key.created_at,
                        deleted_at=key.deleted_at)


def _linked_llms(conn: Conn, user: CurrentUser,
                 records: list[repo_store.RepoRecord]) -> dict[str, AiLlm]:
    """The configurations the repositories link, by id (two queries, none if no links)."""
    wanted = {llm_id for record in records for llm_id in record.llm_ids}
    if not wanted:
        return {}
    workspaces = {record.workspace_id for record in records if record.llm_ids}
    only = next(iter(workspaces)) if len(workspaces) == 1 else None
    wires = [ai_llm_wire(r) for r in llm_store.ai_llm_records(conn, user.id, workspace_id=only)]
    return {w["id"]: AiLlm.model_validate(w) for w in wires if w["id"] in wanted}


@reads.get("", response_model=RepoListResponse, summary="List repositories")
def list_repos(user: User, state: State, workspace_id: WorkspaceIdQuery = None,
               repo_id: RepoIdQuery = None, wallet_address: WalletQuery = None
               ) -> RepoListResponse:
    """Repositories of every workspace the caller belongs to, narrowed by the filters given.

    ``repoId`` is the "get one" call: that repository alone, or ``[]`` if not visible.
    """
    conn = state.db.conn()
    workspace_id = workspace_id or None  # ?workspaceId= means no filter
    if workspace_id is not None:
        require_workspace_role(conn, user, workspace_id, write=False)
    records = repo_store.list_repos(conn, user.id, workspace_id=workspace_id,
                                    repo_id=repo_id or None,
                                    wallet_address=wallet_address or None)
    llms = _linked_llms(conn, user, records)
    return RepoListResponse(success=True, repos=[_repo_wire(r, llms) for r in records])


@reads.delete("/{repo_id}", response_model=SuccessResponse, summary="Delete a repository")
def delete_repo(repo_id: str, user: User, state: State) -> SuccessResponse:
    """Delete a repository with its links and AI API keys (its keys stop working at once)."""
    conn = state.db.conn()
    require_repo_access(conn, user, repo_id, write=True)
    repo_store.delete_repo(conn, actor_of(user), repo_id)
    return SuccessResponse(success=True, message="repository deleted")


# ---------------------------------------------------------------------------------------------
# AI API keys
# ---------------------------------------------------------------------------------------------


@reads.post("/{repo_id}/ai/apikey", response_model=RepoAiApiKeyCreated,
             summary="Create an AI API key (its secret is shown only in this answer)")
def create_api_key(repo_id: str, body: RepoAiApiKeyCreate, user: User, state: State
                   ) -> RepoAiApiKeyCreated:
    """Issue a key for the gateway; only a digest of its secret is stored."""
    conn = state.db.conn()
    require_repo_access(conn, user, repo_id, write=True)
    issued = repo_store.create_api_key(conn, actor_of(user), repo_id=repo_id, name=body.name,
                                        ai_type=body.ai_type.value)
    return RepoAiApiKeyCreated(success=True, id=issued.id, key=issued.key, secret=issued.secret,
                               message="store the secret now: it is not shown again")


@reads.get("/{repo_id}/ai/apikey", response_model=RepoAiApiKeyListResponse,
            summary="List AI API keys, revoked ones included (never their secrets)")
def list_api_keys(repo_id: str, user: User, state: State) -> RepoAiApiKeyListResponse:
    """The repository's keys with their public ids; a revoked key has ``deletedAt``."""
    conn = state.db.conn()
    require_repo_access(conn, user, repo_id, write=False)
    keys = repo_store.list_api_keys(conn, repo_id)
    return RepoAiApiKeyListResponse(success=True, api_keys=[_key_wire(k) for k in keys])


@reads.put("/{repo_id}/ai/apikey/{key_id}", response_model=SuccessResponse,
            summary="Rename an AI API key")
def rename_api_key(repo_id: str, key_id: str, body: RepoAiApiKeyUpdate, user: User,
                   state: State) -> SuccessResponse:
    """Rename a live key (only the name can change; a revoked key cannot be renamed)."""
    conn = state.db.conn()
    require_repo_access(conn, user, repo_id, write=True)
    if body.name is None:
        return SuccessResponse(success=True, message="AI API key unchanged")
    changed = repo_store.rename_api_key(conn, actor_of(user), repo_id, key_id, body.name)
    return SuccessResponse(success=True,
                           message="AI API key renamed" if changed else "AI API key unchanged")


@reads.delete("/{repo_id}/ai/apikey/{key_id}", response_model=SuccessResponse,
               summary="Revoke an AI API key")
def delete_api_key(repo_id: str, key_id: str, user: User, state: State) -> SuccessResponse:
    """Revoke a key: the gateway refuses it from this answer on; it stays listed."""
    conn = state.db.conn()
    require_repo_access(conn, user, repo_id, write=True)
    repo_store.revoke_api_key(conn, actor_of(user), repo_id, key_id)
    return SuccessResponse(success=True, message="AI API key revoked")


#: Every ``/repo`` route (what the app includes).
router = APIRouter()
router.include_router(reads)
router.include_router(writes)
