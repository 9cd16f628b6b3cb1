"""Wire models of the AI usage time series (``/aistats/minute`` and ``/aistats/daily``)."""

from __future__ import annotations

from pydantic import Field

from flashback_tui.api.models.common import BigCount, Rows, WireModel


class AiStatsPoint(WireModel):
    """One bucket; ``timestamp`` in Unix ms, the four token counters decimal strings."""

    timestamp: int
    repo_id: str = ""
    ai_llm_id: str = ""
    repo_ai_api_key_id: str = ""
    tokens_in: BigCount = 0
    tokens_out: BigCount = 0
    llm_tokens_in: BigCount = 0
    llm_tokens_out: BigCount = 0
    active_conversations: int = 0
    api_calls: int = 0
    policy_violations: int = 0
    num_alerts: int = 0
    num_blocks: int = 0
    num_severity_low: int = 0
    num_severity_medium: int = 0
    num_severity_high: int = 0
    latency_ms: float = Field(default=0, alias="latency_ms")
    llm_type: str = ""
    llm_model: str = ""
    host: str = ""
    user_uuid: str = ""
    conversation_uuid: str = ""


class AiStatsResponse(WireModel):
    """Answer of ``/aistats/minute`` and ``/aistats/daily``."""

    success: bool
    data: Rows[AiStatsPoint]
    message: str | None = None


#: The CSV filters of the time series, by query parameter name.
AI_STATS_FILTERS = ("repoId", "aiLlmId", "repoAiApiKeyId", "hosts", "llmType", "llmModel",
                    "userUuid", "conversationUuid")
