"""A configuration's validation state: the one rule the TUI and the CLI both follow.

The hosted platform sends no validation fields; the local platform adds ``validationStatus``
(and ``validationMessage``). So the state is worked out from what is at hand, in this order:

1. a validation this session ran since the list was fetched (it is newer than the list);
2. the platform's ``validationStatus``, when it sent one;
3. a validation this session ran earlier (kept across list refreshes that carry no status);
4. membership in ``GET /ai/llm/available`` (validated and active): VALID;
5. otherwise UNKNOWN: the platform did not say, and nothing was run here.

Callers keep verdicts and pass them with ``newer_than_list`` saying which case applies; a
change of endpoint, type, key or secret makes a configuration unvalidated again, so callers
drop its verdict when they save such a change. A request that brought no verdict (403,
unreachable, ...) never decides the state: it is reported beside it (``request_failed``).
"""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flashback_tui.api.models import AiLlm


class ConfigState(StrEnum):
    """Whether a configuration is known to work (the wire's words, plus UNKNOWN)."""

    VALID = "VALID"
    INVALID = "INVALID"
    NOT_VALIDATED = "NOT_VALIDATED"
    UNKNOWN = "UNKNOWN"


@dataclass(frozen=True)
class ValidationOutcome:
    """The answer of one ``POST /ai/llm/{id}/validate`` run in this session.

    ``success`` is the platform's verdict; ``request_failed`` is True when no verdict came
    back (403, 404, unreachable, ...) and ``message`` then says why.
    """

    ai_llm_id: str
    success: bool
    message: str
    request_failed: bool = False


@dataclass(frozen=True)
class ConfigStatus:
    """A configuration's state, the reason behind it, and where it came from.

    ``source`` is ``session``, ``platform``, ``available`` or ``none``. ``request_failed``
    carries the message of a validation request that got no verdict.
    """

    state: ConfigState
    message: str = ""
    source: str = "none"
    request_failed: str | None = None


_WIRE_STATES = {"VALID": ConfigState.VALID, "INVALID": ConfigState.INVALID,
                "NOT_VALIDATED": ConfigState.NOT_VALIDATED}


def config_status(
    llm: AiLlm,
    *,
    outcome: ValidationOutcome | None = None,
    newer_than_list: bool = True,
    available: Container[str] | None = None,
) -> ConfigStatus:
    """The state of ``llm`` by the rule of this module.

    ``outcome`` is this session's latest validation of it, ``newer_than_list`` whether that
    validation ran after ``llm`` was fetched, ``available`` the ids of
    ``GET /ai/llm/available`` (None when not fetched).
    """
    failed = outcome.message if outcome is not None and outcome.request_failed else None
    verdict = outcome if outcome is not None and not outcome.request_failed else None
    if verdict is not None and newer_than_list:
        return _from_verdict(verdict)
    wire = _WIRE_STATES.get(llm.validation_status or "")
    if wire is not None:
        message = llm.validation_message or ""
        return ConfigStatus(wire, message, "platform", failed)
    if verdict is not None:
        return _from_verdict(verdict)
    if available is not None and llm.id in available:
        return ConfigStatus(ConfigState.VALID, "", "available", failed)
    return ConfigStatus(ConfigState.UNKNOWN, "", "none", failed)


def _from_verdict(outcome: ValidationOutcome) -> ConfigStatus:
    state = ConfigState.VALID if outcome.success else ConfigState.INVALID
    return ConfigStatus(state, outcome.message, "session")


def needs_availability(llms: list[AiLlm]) -> bool:
    """Whether ``/ai/llm/available`` is worth fetching: some row carries no status."""
    return any(_WIRE_STATES.get(llm.validation_status or "") is None for llm in llms)
