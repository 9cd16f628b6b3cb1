"""``/ai/llm``: create, list, update, delete, validate AI LLM configurations, and their stats."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from flashback_tui.api.models import (
    AiLlmCreate,
    AiLlmIdResponse,
    AiLlmListResponse,
    AiLlmUpdate,
    StatsResponse,
    SuccessResponse,
    ValidateResponse,
)
from flashback_tui.server.cache import AnswerCache, ItemJsonCache
from flashback_tui.server.deps import (
    LLM_NOT_FOUND,
    Cache,
    CurrentUser,
    IfNoneMatch,
    Items,
    Settings,
    State,
    User,
    WorkspaceIdQuery,
    error_responses,
    require_llm_access,
    require_workspace_role,
)
from flashback_tui.server.routes.ai_llm_wire import ai_llm_wire, stats_wire
from flashback_tui.server.sql import Conn, transaction
from flashback_tui.server.state import PlatformState
from flashback_tui.server.store import ai_llms as llm_store
from flashback_tui.server.store import base as store_base
from flashback_tui.server.store import models as model_store
from flashback_tui.server.store import usage as usage_store
from flashback_tui.server.store.events import Actor

if TYPE_CHECKING:
    import httpx

    from flashback_tui.server.probes import ProbeResult

_ERRORS = error_responses(400, 401, 403, 404, 500)

router = APIRouter(prefix="/ai/llm", tags=["AI LLM"], responses=_ERRORS)

AiLlmIdQuery = Annotated[str | None, Query(alias="aiLlmId", max_length=64)]


def actor_of(user: CurrentUser) -> Actor:
    """The signed-in user as the author of a change."""
    return Actor(id=user.id, org_id=user.org_id, name=user.name or "", email=user.email)


@router.post("", response_model=AiLlmIdResponse, summary="Create a configuration")
def create_ai_llm(body: AiLlmCreate, user: User, state: State) -> AiLlmIdResponse:
    """Create a configuration in a workspace where the caller may write."""
    conn = state.db.conn()
    require_workspace_role(conn, user, body.workspace_id, write=True)
    llm_id = llm_store.create_ai_llm(
        conn,
        state.keyring,
        workspace_id=body.workspace_id,
        user_id=user.id,
        name=body.name,
        ai_type=body.ai_type,
        endpoint=body.endpoint,
        key=body.key,
        secret=body.secret,
        api_key_id=body.api_key_uuid,
        actor=actor_of(user),
    )
    return AiLlmIdResponse(success=True, ai_llm_id=llm_id, message="AI LLM configuration created")


def _cached_answer(state: PlatformState, cache: AnswerCache, key: tuple[Any, ...],
                   build: Callable[[Conn], bytes], if_none_match: str | None,
                   *, usage: bool = False) -> Response:
    """The JSON answer for ``key``, rebuilt only when the data changed since it was cached.

    The version and the data are read in one snapshot, so an answer is never stored under a
    version older than the data it shows. A client that sends the answer's ETag in
    ``If-None-Match`` gets ``304 Not Modified`` with no body.
    """
    conn = state.db.conn()
    with transaction(conn, immediate=False):
        version = store_base.data_version(conn, usage=usage)
        answer = cache.get_or_build(key, version, lambda: build(conn))
    headers = {"ETag": answer.etag}
    if if_none_match and _etag_matches(if_none_match, answer.etag):
        return Response(status_code=304, headers=headers)
    return Response(answer.body, media_type="application/json", headers=headers)


def _etag_matches(if_none_match: str, etag: str) -> bool:
    """Whether an ``If-None-Match`` list names ``etag`` (weak comparison, as RFC 9110 asks)."""
    held = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in held or etag in held


def _llm_list_json(items: ItemJsonCache, records: list[llm_store.AiLlmRecord]) -> bytes:
    return items.render(AiLlmListResponse(success=True, ai_llms=[]), "aiLlms", records,
                        ai_llm_wire)


@router.get("", response_model=AiLlmListResponse, summary="List configurations")
def list_ai_llms(
    user: User, state: State, cache: Cache, items: Items,
    workspace_id: WorkspaceIdQuery = None, if_none_match: IfNoneMatch = None,
) -> Response:
    """Configurations of every workspace the caller belongs to, or of one workspace."""
    workspace_id = workspace_id or None  # ?workspaceId= means no filter
    if workspace_id is not None:
        require_workspace_role(state.db.conn(), user, workspace_id, write=False)
    return _cached_answer(state, cache, ("list", user.id, workspace_id), lambda conn: (
        _llm_list_json(items, llm_store.ai_llm_records(conn, user.id, workspace_id=workspace_id))),
        if_none_match)


@router.get("/available", response_model=AiLlmListResponse, summary="Configurations ready to use")
def list_available_ai_llms(user: User, state: State, cache: Cache, items: Items,
                           if_none_match: IfNoneMatch = None) -> Response:
    """Configurations whose last validation succeeded and that have not changed since."""
    return _cached_answer(state, cache, ("available", user.id), lambda conn: (
        _llm_list_json(items, llm_store.ai_llm_records(conn, user.id, available_only=True))),
        if_none_match)


@router.get("/stats", response_model=StatsResponse, summary="Usage totals")
def ai_llm_stats(
    user: User, state: State, cache: Cache, ai_llm_id: AiLlmIdQuery = None,
    if_none_match: IfNoneMatch = None,
) -> Response:
    """Usage totals of every visible configuration, or of ``aiLlmId``."""
    ai_llm_id = ai_llm_id or None
    if ai_llm_id is not None:
        require_llm_access(state.db.conn(), user, ai_llm_id, write=False)
    return _cached_answer(state, cache, ("stats", user.id, ai_llm_id), lambda conn: (
        _stats_json(usage_store.stats_totals(conn, user.id, ai_llm_id))), if_none_match,
        usage=True)


def _stats_json(totals: list[usage_store.StatsTotals]) -> bytes:
    answer = StatsResponse.model_validate(
        {"success": True, "stats": [stats_wire(t) for t in totals]})
    return answer.model_dump_json(by_alias=True).encode()


@router.put("/{ai_llm_id}", response_model=AiLlmIdResponse, summary="Update a configuration")
def update_ai_llm(ai_llm_id: str, body: AiLlmUpdate, user: User, state: State
                  ) -> AiLlmIdResponse:
    """Partial update; a new endpoint, type, key or secret makes it unvalidated again."""
    conn = state.db.conn()
    require_llm_access(conn, user, ai_llm_id, write=True)
    changes = body.given_fields()
    unvalidated = llm_store.update_ai_llm(conn, state.keyring, ai_llm_id, changes,
                                          actor=actor_of(user))
    message = ("AI LLM configuration updated; validate it again" if unvalidated
               else "AI LLM configuration updated")
    return AiLlmIdResponse(success=True, ai_llm_id=ai_llm_id, message=message)


@router.delete("/{ai_llm_id}", response_model=SuccessResponse, summary="Delete a configuration")
def delete_ai_llm(ai_llm_id: str, user: User, state: State) -> SuccessResponse:
    """Delete a configuration and its sealed credentials; 403 while a repository uses it."""
    conn = state.db.conn()
    require_llm_access(conn, user, ai_llm_id, write=True)
    llm_store.delete_ai_llm(conn, ai_llm_id, actor=actor_of(user))
    return SuccessResponse(success=True, message="AI LLM configuration deleted")


def _credentials_for(state: PlatformState, user: CurrentUser, llm_id: str
                     ) -> llm_store.Credentials:
    conn = state.db.conn()
    require_llm_access(conn, user, llm_id, write=False)
    try:
        return llm_store.load_credentials(conn, state.keyring, llm_id)
    except store_base.NotFound:
        raise HTTPException(404, LLM_NOT_FOUND) from None


def _probe_transport(request: Request) -> httpx.AsyncBaseTransport:
    """One pooled transport for all probes of this app (closed by the lifespan)."""
    from flashback_tui.server.upstream import UpstreamTransport

    app_state = request.app.state
    if getattr(app_state, "probe_transport", None) is None:
        app_state.probe_transport = UpstreamTransport()
    return app_state.probe_transport


def _record_outcome(state: PlatformState, creds: llm_store.Credentials, llm_id: str,
                    result: ProbeResult) -> bool:
    """Store the outcome and, after a success, the provider's model list."""
    conn = state.db.conn()
    stored = llm_store.record_validation(conn, llm_id, creds.generation, result.success,
                                         result.message)
    if stored and result.success:
        llm_type = creds.ai_type.value
        models = [model_store.ModelRecord(m.model_id, m.name, m.created, llm_type)
                  for m in result.models]
        model_store.replace_models(conn, llm_id, creds.generation, models)
    return stored


@router.post("/{ai_llm_id}/validate", response_model=ValidateResponse,
             summary="Probe the provider with the stored credentials")
async def validate_ai_llm(ai_llm_id: str, request: Request, user: User, state: State,
                          settings: Settings) -> ValidateResponse:
    """Call the provider's model list; 200 with ``success: false`` when it fails.

    The database is not held while the probe runs. The outcome is stored only if the
    configuration did not change in the meantime.
    """
    from flashback_tui.server.probes import ProbeResult, probe  # imported on first use

    # Inline like the token check: primary-key reads in WAL mode never wait on writers, and
    # a threadpool hop here costs bulk validation more than the reads themselves.
    creds = _credentials_for(state, user, ai_llm_id)
    if not creds.secret_bound:  # never send a stored secret where it was not given
        result = ProbeResult(False, f"Validation failed: {llm_store.SECRET_NOT_BOUND}")
    else:
        result = await probe(
            creds.ai_type,
            creds.endpoint,
            creds.key,
            creds.secret,
            timeout=settings.probe_timeout,
            transport=_probe_transport(request),
        )
    stored = await run_in_threadpool(_record_outcome, state, creds, ai_llm_id, result)
    message = result.message
    if not stored:
        message += " (not recorded: the configuration changed during validation)"
    return ValidateResponse(success=result.success, message=message)
