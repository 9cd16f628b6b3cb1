"""The model list a validation probe reads from a provider's answer (never a secret)."""

from __future__ import annotations

from typing import Any, NamedTuple


class ProbedModel(NamedTuple):
    """One model in a provider's listing (``created`` only when the provider gave a number)."""

    model_id: str
    name: str
    created: int | None = None


def model_list(payload: Any) -> list[Any] | None:
    """The list of models in a listing (OpenAI/Anthropic ``data``, Google ``models``, AWS)."""
    if isinstance(payload, dict):
        for field in ("data", "models", "modelSummaries"):
            if isinstance(payload.get(field), list):
                return payload[field]
    return None


def parse_models(items: list[Any]) -> tuple[ProbedModel, ...]:
    """The models of a listing: OpenAI/Anthropic ``id``, Google ``name``, AWS ``modelId``."""
    out: dict[str, ProbedModel] = {}
    for item in items:
        if not isinstance(item, dict):
            continue
        model_id = next((item[k] for k in ("id", "modelId", "name")
                         if isinstance(item.get(k), str) and item[k]), None)
        if model_id is None or model_id in out:
            continue
        name = next((item[k] for k in ("display_name", "displayName", "modelName", "name")
                     if isinstance(item.get(k), str) and item[k]), model_id)
        created = item.get("created")
        out[model_id] = ProbedModel(model_id, name, created if type(created) is int else None)
    return tuple(out.values())
