"""How a configuration becomes a table row, and how its status is worked out. One home."""

from __future__ import annotations

import re
from collections.abc import Container, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from flashback_tui.domain.status import ConfigState, ValidationOutcome, config_status
from flashback_tui.tui.widgets.fast_table import TableColumn, TableRow

if TYPE_CHECKING:
    from flashback_tui.api.models import AiLlm

#: Columns of the list; Status gets room first, then Name; Endpoint takes what is left.
CONFIG_COLUMNS = (
    TableColumn("Name", min_width=10, priority=1, max_width=32, flex=1),
    TableColumn("Provider", min_width=6, priority=3, max_width=9),
    TableColumn("Endpoint", min_width=8, priority=6, flex=2),
    TableColumn("Key", min_width=8, priority=4, max_width=9),
    TableColumn("Repos", min_width=5, priority=2, max_width=5, justify_right=True),
    TableColumn("Created", min_width=10, priority=5, max_width=10),
    TableColumn("Status", min_width=14, priority=0, max_width=40, flex=1),
)
WORKSPACE_COLUMN = TableColumn("Workspace", min_width=9, priority=1, max_width=20)
#: Where the Workspace column goes (after Name) when several workspaces are shown.
WORKSPACE_AT = 1


def config_columns(with_workspace: bool) -> tuple[TableColumn, ...]:
    """The list's columns, with a Workspace column when several workspaces are shown."""
    if not with_workspace:
        return CONFIG_COLUMNS
    return (*CONFIG_COLUMNS[:WORKSPACE_AT], WORKSPACE_COLUMN, *CONFIG_COLUMNS[WORKSPACE_AT:])

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
UNKNOWN = Status("Unknown", "dim", "the platform does not say; validate to find out")


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
    """What the Status column shows: validating, else the rule of :mod:`domain.status`.

    A validation request that brought no verdict is shown as an error; an unknown aiType
    or state is shown as it is.
    """
    if validating:
        return VALIDATING
    found = config_status(llm, outcome=outcome, available=available)
    if found.request_failed is not None:
        reason = found.request_failed
        return Status(f"Error: {short_reason(reason)}", "invalid", reason)
    if found.state is ConfigState.VALID:
        return Status("Valid", "valid", found.message)
    if found.state is ConfigState.INVALID:
        message = found.message or "validation failed"
        return Status(f"Invalid: {short_reason(message)}", "invalid", message)
    if found.state is ConfigState.NOT_VALIDATED:
        return NOT_VALIDATED
    return UNKNOWN


def shown_endpoint(endpoint: str) -> str:
    """The endpoint as the table shows it: ``https://`` is implied; any other scheme stays."""
    return endpoint.removeprefix("https://")


def config_row(llm: AiLlm, status: Status, workspace: str | None = None) -> TableRow:
    """The table row of a configuration (kept cheap: 10,000 of them are built at once).

    ``workspace`` (its name) adds the Workspace cell, for lists of several workspaces.
    """
    created_at = llm.created_at
    created = created_at.isoformat()[:10] if created_at else ""
    endpoint = llm.endpoint or ""
    provider = str(llm.ai_type)
    name = llm.name
    key = llm.key or ""
    repos = len(llm.repos) if llm.repos is not None else None
    cells = (name, provider, shown_endpoint(endpoint), key,
             "" if repos is None else str(repos), created, status.label)
    sort_values = (name.lower(), provider, endpoint, key, -1 if repos is None else repos,
                   created_at, status.label)
    if workspace is None:
        return TableRow(llm.id, cells, sort_values, _STYLES[status.style],
                        f"{name}\n{provider}\n{endpoint}".lower(), status)
    return TableRow(
        llm.id,
        (name, workspace, *cells[1:]),
        (name.lower(), workspace.lower(), *sort_values[1:]),
        _WORKSPACE_STYLES[status.style],
        f"{name}\n{workspace}\n{provider}\n{endpoint}".lower(),
        status,
    )


def config_row_cells(key: str, name: str, provider: str, endpoint: str, masked: str,
                     repos: int | None, created: str | None, status: Status) -> TableRow:
    """A row from display fields alone (a last-known list has no wire model)."""
    cells = (name, provider, shown_endpoint(endpoint), masked,
             "" if repos is None else str(repos), (created or "")[:10], status.label)
    sort_values = (name.lower(), provider, endpoint, masked, -1 if repos is None else repos,
                   created or "", status.label)
    return TableRow(key, cells, sort_values, _STYLES[status.style],
                    f"{name}\n{provider}\n{endpoint}".lower(), status)


_STYLES: dict[str | None, tuple[str | None, ...]] = {
    style: (None, None, "dim", "dim", None, "dim", style)
    for style in (None, "valid", "invalid", "pending", "dim")
}
_WORKSPACE_STYLES = {style: (None, "dim", *cells[1:]) for style, cells in _STYLES.items()}


def same_models(llms: Sequence[AiLlm], shown: Mapping[str, AiLlm], keys: list[str]) -> bool:
    """Whether ``llms`` are the very models ``shown`` (by identity, in order) and the table
    holds their rows (``keys``): what a refresh the platform answered with a 304 brings."""
    return (len(llms) == len(shown) == len(keys)
            and all(a is b for a, b in zip(llms, shown.values(), strict=True))
            and keys == list(shown))
