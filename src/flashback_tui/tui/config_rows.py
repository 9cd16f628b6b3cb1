"""How a configuration becomes a table row, and how its status is worked out. One home."""

from __future__ import annotations

import re
from collections.abc import Container
from dataclasses import dataclass
from typing import TYPE_CHECKING

from flashback_tui.tui.validation import ValidationOutcome
from flashback_tui.tui.widgets.fast_table import TableColumn, TableRow

if TYPE_CHECKING:
    from flashback_tui.api.models import AiLlm

CONFIG_COLUMNS = (
    TableColumn("Name", flex=3, min_width=8),
    TableColumn("Provider", width=9),
    TableColumn("Endpoint", flex=3, min_width=8),
    TableColumn("Key", width=9),
    TableColumn("Repos", width=5, justify_right=True),
    TableColumn("Created", width=10),
    TableColumn("Status", flex=3, min_width=12),
)

_PREFIXES = re.compile(r"^(validation failed|error|invalid)\s*:\s*", re.IGNORECASE)


@dataclass(frozen=True)
class Status:
    """What the Status column shows: a label, its style, and the full reason."""

    label: str
    style: str | None
    detail: str = ""


VALIDATING = Status("Validating…", "pending")
NOT_VALIDATED = Status("Not validated", "dim")
VALID = Status("Valid", "valid")


def short_reason(message: str) -> str:
    """The message without a leading "Validation failed:" and with single spaces."""
    return _PREFIXES.sub("", " ".join(message.split())) or message


def status_of(
    llm: AiLlm,
    *,
    validating: bool = False,
    outcome: ValidationOutcome | None = None,
    available: Container[str] | None = None,
) -> Status:
    """The status: validating > this session's answer > the server's fields > availability."""
    if validating:
        return VALIDATING
    if outcome is not None:
        if outcome.request_failed:
            return Status(f"Error: {short_reason(outcome.message)}", "invalid", outcome.message)
        if outcome.success:
            return Status("Valid", "valid", outcome.message)
        return Status(f"Invalid: {short_reason(outcome.message)}", "invalid", outcome.message)
    if llm.validation_status == "VALID":
        return Status("Valid", "valid", llm.validation_message or "")
    if llm.validation_status == "INVALID":
        message = llm.validation_message or "validation failed"
        return Status(f"Invalid: {short_reason(message)}", "invalid", message)
    if llm.validation_status is None and available is not None and llm.id in available:
        return VALID
    return NOT_VALIDATED


def shown_endpoint(endpoint: str) -> str:
    """The endpoint as the table shows it: ``https://`` is implied; any other scheme stays."""
    return endpoint.removeprefix("https://")


def config_row(llm: AiLlm, status: Status) -> TableRow:
    """The table row of a configuration (kept cheap: 10,000 of them are built at once)."""
    created_at = llm.created_at
    created = created_at.isoformat()[:10] if created_at else ""
    endpoint = llm.endpoint or ""
    provider = llm.ai_type.value
    name = llm.name
    key = llm.key or ""
    repos = len(llm.repos)
    return TableRow(
        llm.id,
        (name, provider, shown_endpoint(endpoint), key, str(repos), created, status.label),
        (name.lower(), provider, endpoint, key, repos, created_at, status.label),
        _STYLES[status.style],
        f"{name}\n{provider}\n{endpoint}".lower(),
        status,
    )


_STYLES: dict[str | None, tuple[str | None, ...]] = {
    style: (None, None, "dim", "dim", None, "dim", style)
    for style in (None, "valid", "invalid", "pending", "dim")
}
