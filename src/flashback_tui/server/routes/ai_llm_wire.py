"""Configuration records as ``AiLlm`` wire data, and the local-only validation fields.

The list endpoints serialize these dicts straight to JSON (see ``ItemJsonCache``); the
dicts have exactly the keys, order and omissions of a validated ``AiLlm`` dumped by alias
(optional means absent: ``apiKeyId`` and the validation details are left out when none,
``key`` is ``null`` or masked, ``repos`` is always given).
"""

from __future__ import annotations

from typing import Any

from flashback_tui.server.store.ai_llms import AiLlmRecord
from flashback_tui.server.store.usage import StatsTotals


def ai_llm_wire(record: AiLlmRecord) -> dict[str, Any]:
    """The camelCase data of one ``AiLlm``."""
    data: dict[str, Any] = {"id": record.id, "orgId": record.org_id,
                            "workspaceId": record.workspace_id}
    if record.user_id is not None:
        data["userId"] = record.user_id
    data.update(name=record.name, aiType=record.ai_type)
    if record.endpoint is not None:
        data["endpoint"] = record.endpoint
    data["key"] = record.key_mask
    if record.api_key_id is not None:
        data["apiKeyId"] = record.api_key_id
    data["createdAt"] = record.created_at
    data["repos"] = [{"id": r.id, "name": r.name, "createdAt": r.created_at}
                     for r in record.repos]
    data["validationStatus"] = record.validation_status
    if record.validation_message is not None:
        data["validationMessage"] = record.validation_message
    if record.validated_at is not None:
        data["validatedAt"] = record.validated_at
    return data


def stats_wire(totals: StatsTotals) -> dict[str, Any]:
    """The camelCase data of one ``AiLlmStats`` (counters still ints; the model strings them)."""
    return {
        "aiLlmId": totals.ai_llm_id,
        "totalApiCalls": totals.api_calls,
        "totalTokensIn": totals.tokens_in,
        "totalTokensOut": totals.tokens_out,
        "totalLlmTokensIn": totals.llm_tokens_in,
        "totalLlmTokensOut": totals.llm_tokens_out,
        "totalPolicyViolations": totals.policy_violations,
        "totalAlerts": totals.alerts,
        "totalBlocks": totals.blocks,
    }
