"""``/aistats``: usage time series per minute and per day, for live dashboards."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query

from flashback_tui.api.models import AiStatsResponse
from flashback_tui.server.deps import (
    LLM_NOT_FOUND,
    State,
    User,
    error_responses,
)
from flashback_tui.server.store import ai_llms as llm_store
from flashback_tui.server.store import base as store_base
from flashback_tui.server.store import usage as usage_store

_ERRORS = error_responses(400, 401, 500)

router = APIRouter(prefix="/aistats", tags=["Usage"], responses=_ERRORS)

StartQuery = Annotated[str | None, Query(alias="startDate", max_length=40)]
EndQuery = Annotated[str | None, Query(alias="endDate", max_length=40)]
IdsQuery = Annotated[str | None, Query(alias="aiLlmId", max_length=20_000)]

#: Without startDate, how far back each series goes.
MINUTE_WINDOW_MS = 60 * 60 * 1000
DAILY_WINDOW_MS = 30 * usage_store.DAY_MS


def parse_instant(value: str | None, field: str) -> int | None:
    """An ISO 8601 date/time (UTC when naive) or Unix milliseconds, as Unix milliseconds."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return int(text)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise HTTPException(400, f"{field}: must be an ISO 8601 date or time") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp() * 1000)


def _series(user: User, state: State, start: str | None, end: str | None, ids: str | None,
            bucket_ms: int, window_ms: int) -> AiStatsResponse:
    end_ms = parse_instant(end, "endDate") or store_base.now_ms()
    start_ms = parse_instant(start, "startDate")
    if start_ms is None:
        start_ms = end_ms - window_ms
    if start_ms > end_ms:
        raise HTTPException(400, "startDate: must not be after endDate")
    llm_ids = [part.strip() for part in ids.split(",") if part.strip()] if ids else None
    conn = state.db.conn()
    if llm_ids and len(llm_store.visible_llm_ids(conn, user.id, llm_ids)) < len(set(llm_ids)):
        raise HTTPException(404, LLM_NOT_FOUND)
    points = usage_store.usage_points(conn, user.id, start_ms=start_ms, end_ms=end_ms + 1,
                                llm_ids=llm_ids, bucket_ms=bucket_ms)
    return AiStatsResponse(success=True, data=points)


@router.get("/minute", response_model=AiStatsResponse, summary="Usage per minute")
def stats_per_minute(user: User, state: State, start_date: StartQuery = None,
        end_date: EndQuery = None,
        ai_llm_id: IdsQuery = None) -> AiStatsResponse:
    """Per-minute buckets (default: the last hour)."""
    return _series(user, state, start_date, end_date, ai_llm_id, usage_store.MINUTE_MS,
                   MINUTE_WINDOW_MS)


@router.get("/daily", response_model=AiStatsResponse, summary="Usage per day")
def stats_per_day(user: User, state: State, start_date: StartQuery = None,
        end_date: EndQuery = None,
        ai_llm_id: IdsQuery = None) -> AiStatsResponse:
    """Per-day buckets (default: the last 30 days)."""
    return _series(user, state, start_date, end_date, ai_llm_id, usage_store.DAY_MS,
                   DAILY_WINDOW_MS)
