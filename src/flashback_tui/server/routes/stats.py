"""``/aistats``: usage time series per minute and per day, for live dashboards.

Both take the same query: ``startDate``/``endDate`` (ISO 8601; Unix milliseconds are also
accepted) and the CSV filters of ``AI_STATS_FILTERS``, each arriving percent-decoded and split
on ``,``. Only configurations the caller may see are counted.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query

from flashback_tui.api.models import AiStatsPoint, AiStatsResponse
from flashback_tui.server.deps import (
    LLM_NOT_FOUND,
    State,
    User,
    error_responses,
)
from flashback_tui.server.openapi import ISO_INSTANT
from flashback_tui.server.store import ai_llms as llm_store
from flashback_tui.server.store import base as store_base
from flashback_tui.server.store import usage as usage_store

_ERRORS = error_responses(400, 401, 404, 500)

router = APIRouter(prefix="/aistats", tags=["Usage"], responses=_ERRORS)

#: Unix milliseconds or an ISO 8601 date or time (blanks around it ignored).
INSTANT_PATTERN = rf"^\s*(?:[0-9]+|{ISO_INSTANT.format(sep='[T ]')})?\s*$"
StartQuery = Annotated[str | None, Query(alias="startDate", max_length=40,
                                         json_schema_extra={"pattern": INSTANT_PATTERN})]
EndQuery = Annotated[str | None, Query(alias="endDate", max_length=40,
                                       json_schema_extra={"pattern": INSTANT_PATTERN})]


def _csv(alias: str) -> Any:
    """A CSV filter parameter."""
    return Query(alias=alias, max_length=20_000)


RepoIds = Annotated[str | None, _csv("repoId")]
LlmIds = Annotated[str | None, _csv("aiLlmId")]
KeyIds = Annotated[str | None, _csv("repoAiApiKeyId")]
Hosts = Annotated[str | None, _csv("hosts")]
LlmTypes = Annotated[str | None, _csv("llmType")]
LlmModels = Annotated[str | None, _csv("llmModel")]
UserUuids = Annotated[str | None, _csv("userUuid")]
ConversationUuids = Annotated[str | None, _csv("conversationUuid")]

#: Without startDate, how far back each series goes.
MINUTE_WINDOW_MS = 60 * 60 * 1000
DAILY_WINDOW_MS = 30 * usage_store.DAY_MS


def parse_instant(value: str | None, field: str) -> int | None:
    """An ISO 8601 date/time (UTC when naive) or Unix milliseconds, as Unix milliseconds."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isascii() and text.isdigit():
        return int(text)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise HTTPException(400, f"{field}: must be an ISO 8601 date or time") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp() * 1000)


def split_csv(value: str | None) -> list[str] | None:
    """The values of a CSV filter (already percent-decoded), or None when not given."""
    if value is None:
        return None
    values = [part.strip() for part in value.split(",") if part.strip()]
    return list(dict.fromkeys(values)) or None


class SeriesQuery:
    """The query both series take, as FastAPI dependencies read it."""

    def __init__(self, start_date: StartQuery = None, end_date: EndQuery = None,
                 repo_id: RepoIds = None, ai_llm_id: LlmIds = None, key_id: KeyIds = None,
                 hosts: Hosts = None, llm_type: LlmTypes = None, llm_model: LlmModels = None,
                 user_uuid: UserUuids = None, conversation_uuid: ConversationUuids = None
                 ) -> None:
        self.start, self.end = start_date, end_date
        self.where = usage_store.UsageFilter(
            repo_ids=split_csv(repo_id), llm_ids=split_csv(ai_llm_id),
            key_ids=split_csv(key_id), hosts=split_csv(hosts),
            llm_types=split_csv(llm_type), llm_models=split_csv(llm_model),
            user_uuids=split_csv(user_uuid), conversation_uuids=split_csv(conversation_uuid),
        )


def _point(point: usage_store.UsagePoint) -> AiStatsPoint:
    return AiStatsPoint(
        timestamp=point.timestamp, repo_id=point.repo_id, ai_llm_id=point.ai_llm_id,
        repo_ai_api_key_id=point.repo_ai_api_key_id, latency_ms=point.latency_ms,
        llm_type=point.llm_type, llm_model=point.llm_model, host=point.host,
        user_uuid=point.user_uuid, conversation_uuid=point.conversation_uuid, **point.counters,
    )


def _series(user: User, state: State, query: SeriesQuery, bucket_ms: int,
            window_ms: int) -> AiStatsResponse:
    end_ms = parse_instant(query.end, "endDate") or store_base.now_ms()
    start_ms = parse_instant(query.start, "startDate")
    if start_ms is None:
        start_ms = end_ms - window_ms
    if start_ms > end_ms:
        raise HTTPException(400, "startDate: must not be after endDate")
    conn = state.db.conn()
    llm_ids = query.where.llm_ids
    if llm_ids and len(llm_store.visible_llm_ids(conn, user.id, llm_ids)) < len(llm_ids):
        raise HTTPException(404, LLM_NOT_FOUND)
    points = usage_store.usage_points(conn, user.id, start_ms=start_ms, end_ms=end_ms + 1,
                                      where=query.where, bucket_ms=bucket_ms)
    return AiStatsResponse(success=True, data=[_point(p) for p in points])


Series = Annotated[SeriesQuery, Depends()]


@router.get("/minute", response_model=AiStatsResponse, summary="Usage per minute")
def stats_per_minute(user: User, state: State, query: Series) -> AiStatsResponse:
    """Per-minute buckets (default: the last hour)."""
    return _series(user, state, query, usage_store.MINUTE_MS, MINUTE_WINDOW_MS)


@router.get("/daily", response_model=AiStatsResponse, summary="Usage per day")
def stats_per_day(user: User, state: State, query: Series) -> AiStatsResponse:
    """Per-day buckets (default: the last 30 days)."""
    return _series(user, state, query, usage_store.DAY_MS, DAILY_WINDOW_MS)
