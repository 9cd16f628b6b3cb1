"""ValidationQueue: validate many configurations with bounded concurrency.

Each answer is reported through a callback as soon as it arrives; the verdict comes from the
response's ``success`` field, never from the HTTP status alone. Cancelling the task that runs
:meth:`ValidationQueue.run` cancels every request still in flight. No UI code here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from flashback_tui.api.errors import FlashbackError
from flashback_tui.domain.status import ValidationOutcome

if TYPE_CHECKING:
    from flashback_tui.api.client import FlashbackClient

__all__ = ["DEFAULT_CONCURRENCY", "ValidationOutcome", "ValidationQueue", "ValidationSummary",
           "summarize"]

DEFAULT_CONCURRENCY = 8


class ValidationQueue:
    """Runs ``POST /ai/llm/{id}/validate`` for many ids, at most ``concurrency`` at a time."""

    def __init__(self, client: FlashbackClient, concurrency: int = DEFAULT_CONCURRENCY) -> None:
        self.client = client
        self.concurrency = max(1, concurrency)

    async def validate_one(self, ai_llm_id: str) -> ValidationOutcome:
        """Validate one configuration; client errors become a failed outcome."""
        try:
            answer = await self.client.validate_ai_llm(ai_llm_id)
        except FlashbackError as exc:
            return ValidationOutcome(ai_llm_id, False, exc.message or str(exc), True)
        return ValidationOutcome(ai_llm_id, bool(answer.success), answer.message or "")

    async def run(
        self,
        ai_llm_ids: Iterable[str],
        on_result: Callable[[ValidationOutcome], None],
    ) -> list[ValidationOutcome]:
        """Validate every id, calling ``on_result`` for each answer in arrival order.

        ``concurrency`` workers share one iterator of ids, so there are never more tasks
        than requests in flight, however many ids there are.
        """
        pending = iter(list(ai_llm_ids))
        outcomes: list[ValidationOutcome] = []

        async def worker() -> None:
            for ai_llm_id in pending:
                outcome = await self.validate_one(ai_llm_id)
                outcomes.append(outcome)
                on_result(outcome)

        async with asyncio.TaskGroup() as group:
            for _ in range(self.concurrency):
                group.create_task(worker())
        return outcomes


#: Words in a failed validation's message that mean the provider could not be reached.
_UNREACHABLE = ("unreachable", "timed out", "timeout", "connection", "could not connect",
                "name resolution", "refused")


def outcome_kind(outcome: ValidationOutcome) -> str:
    """``valid``, ``invalid``, ``unreachable`` (provider not reached) or ``not checked``
    (the request itself brought no verdict: 403, 404, platform unreachable)."""
    if outcome.request_failed:
        return "not checked"
    if outcome.success:
        return "valid"
    message = outcome.message.lower()
    return "unreachable" if any(word in message for word in _UNREACHABLE) else "invalid"


@dataclass(frozen=True)
class ValidationSummary:
    """How a run of validations ended, counted by :func:`outcome_kind`."""

    valid: int = 0
    invalid: int = 0
    unreachable: int = 0
    not_checked: int = 0
    cancelled: int = 0

    @property
    def text(self) -> str:
        """``12 valid, 3 invalid, 1 unreachable`` (kinds that did not occur are left out)."""
        parts = [f"{count} {word}" for count, word in (
            (self.valid, "valid"), (self.invalid, "invalid"), (self.unreachable, "unreachable"),
            (self.not_checked, "not checked"), (self.cancelled, "cancelled")) if count]
        return ", ".join(parts) or "nothing validated"


def summarize(outcomes: Iterable[ValidationOutcome], cancelled: int = 0) -> ValidationSummary:
    """Count outcomes by kind (``cancelled``: ids that were never answered)."""
    kinds = [outcome_kind(o) for o in outcomes]
    return ValidationSummary(kinds.count("valid"), kinds.count("invalid"),
                             kinds.count("unreachable"), kinds.count("not checked"), cancelled)
