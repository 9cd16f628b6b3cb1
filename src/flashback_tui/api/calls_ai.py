"""The AI calls of the client: LLM configurations, AI models and usage figures.

One method per endpoint, named after the TypeScript client's method (``getAiLlms`` ->
:meth:`AiCalls.get_ai_llms`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from flashback_tui.api.errors import BadRequestError
from flashback_tui.api.models import (
    AiLlmCreate,
    AiLlmIdResponse,
    AiLlmListResponse,
    AiLlmUpdate,
    AiModelsRequest,
    AiModelsResponse,
    AiStatsResponse,
    StatsResponse,
    SuccessResponse,
    ValidateResponse,
)
from flashback_tui.api.transport import ApiSession, path_id, query

Ids = Sequence[str] | None


class AiCalls(ApiSession):
    """``/ai/llm``, ``/ai/models`` and ``/aistats``."""

    # -- AI LLM configurations ----------------------------------------------------------------

    async def create_ai_llm(self, body: AiLlmCreate) -> AiLlmIdResponse:
        """``POST /ai/llm``: create a configuration; answers its id."""
        return await self._call("POST", "/ai/llm", AiLlmIdResponse, json=body.to_wire())

    async def get_ai_llms(self, workspace_id: str | None = None) -> AiLlmListResponse:
        """``GET /ai/llm``: configurations of one workspace, or of every accessible one."""
        params = query({"workspaceId": workspace_id})
        return await self._call("GET", "/ai/llm", AiLlmListResponse, params=params)

    async def get_available_ai_llms(self) -> AiLlmListResponse:
        """``GET /ai/llm/available``: validated, ready-to-use configurations, newest first."""
        return await self._call("GET", "/ai/llm/available", AiLlmListResponse)

    async def update_ai_llm(self, ai_llm_id: str, body: AiLlmUpdate) -> AiLlmIdResponse:
        """``PUT /ai/llm/{id}``: partial update; an omitted secret keeps the stored one."""
        path = f"/ai/llm/{path_id(ai_llm_id)}"
        return await self._call("PUT", path, AiLlmIdResponse, json=body.to_wire())

    async def delete_ai_llm(self, ai_llm_id: str) -> SuccessResponse:
        """``DELETE /ai/llm/{id}``: refused (ForbiddenError) while a repository uses it."""
        path = f"/ai/llm/{path_id(ai_llm_id)}"
        return await self._call("DELETE", path, SuccessResponse)

    async def validate_ai_llm(self, ai_llm_id: str) -> ValidateResponse:
        """``POST /ai/llm/{id}/validate``: probe the provider (no body is sent).

        A failed validation is an answer (``success`` false, reason in ``message``), not an
        exception. Never retried automatically.
        """
        path = f"/ai/llm/{path_id(ai_llm_id)}/validate"
        return await self._call("POST", path, ValidateResponse)

    async def get_ai_llm_stats(self, ai_llm_id: str | None = None) -> StatsResponse:
        """``GET /ai/llm/stats``: usage totals of every visible configuration, or of one."""
        params = query({"aiLlmId": ai_llm_id})
        return await self._call("GET", "/ai/llm/stats", StatsResponse, params=params)

    # -- AI models ------------------------------------------------------------------------------

    async def get_ai_models(self, body: AiModelsRequest) -> AiModelsResponse:
        """``POST /ai/models``: the models a repository's configurations offer."""
        return await self._call("POST", "/ai/models", AiModelsResponse, json=body.to_wire())

    # -- usage time series --------------------------------------------------------------------

    async def get_ai_stats_minute(
        self,
        start: datetime | str | None = None,
        end: datetime | str | None = None,
        ai_llm_ids: Ids = None,
        **filters: Ids,
    ) -> AiStatsResponse:
        """``GET /aistats/minute``: per-minute usage buckets.

        ``filters`` are the other CSV filters by snake_case name: ``repo_ids``,
        ``repo_ai_api_key_ids``, ``hosts``, ``llm_types``, ``llm_models``, ``user_uuids``,
        ``conversation_uuids``. A start after the end is refused before anything is sent.
        """
        return await self._ai_stats("/aistats/minute", start, end, ai_llm_ids, filters)

    async def get_ai_stats_daily(
        self,
        start: datetime | str | None = None,
        end: datetime | str | None = None,
        ai_llm_ids: Ids = None,
        **filters: Ids,
    ) -> AiStatsResponse:
        """``GET /aistats/daily``: per-day usage buckets (filters as for the minute call)."""
        return await self._ai_stats("/aistats/daily", start, end, ai_llm_ids, filters)

    async def _ai_stats(self, path: str, start: datetime | str | None,
                        end: datetime | str | None, ai_llm_ids: Ids,
                        filters: dict[str, Ids]) -> AiStatsResponse:
        label = f"GET {path}"
        if isinstance(start, datetime) and isinstance(end, datetime) and start > end:
            raise BadRequestError("startDate must not be after endDate", request=label)
        unknown = set(filters) - set(_STATS_FILTERS)
        if unknown:
            raise TypeError(f"unknown filter(s): {', '.join(sorted(unknown))}")
        pairs: dict[str, object] = {"startDate": start, "endDate": end}
        for name, wire in _STATS_FILTERS.items():
            pairs[wire] = ai_llm_ids if name == "ai_llm_ids" else filters.get(name)
        return await self._call("GET", path, AiStatsResponse, params=query(pairs))  # type: ignore[arg-type]


#: The CSV filters of the time series: Python name -> query parameter, in the TS order.
_STATS_FILTERS = {
    "repo_ids": "repoId",
    "ai_llm_ids": "aiLlmId",
    "repo_ai_api_key_ids": "repoAiApiKeyId",
    "hosts": "hosts",
    "llm_types": "llmType",
    "llm_models": "llmModel",
    "user_uuids": "userUuid",
    "conversation_uuids": "conversationUuid",
}
