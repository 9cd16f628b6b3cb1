"""The filters dialog of the violation and alert lists, and the details of one row.

Lists are comma-separated (``HIGH, MEDIUM``); times are ISO dates or date-times, in UTC.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Static

from flashback_tui.api.models import ViolationFilters

#: (field, label, placeholder, list-valued) of the text filters; severity/blocked: violations.
TEXT_FIELDS: tuple[tuple[str, str, str, bool], ...] = (
    ("severity", "Severity", "LOW, MEDIUM, HIGH (any when empty)", True),
    ("repo_id", "Repository", "repository id", False),
    ("policy_id", "Policy", "policy id", False),
    ("llm_model", "Model", "e.g. gpt-4o-mini, several with commas", True),
    ("host", "Host", "e.g. api.openai.com", True),
    ("from_", "From", "2026-01-31 or 2026-01-31T08:00:00Z", False),
    ("to", "To", "same form as From", False),
)
VIOLATIONS_ONLY = frozenset({"severity", "block"})


def describe_filters(filters: ViolationFilters, *, alerts: bool = False) -> str:
    """The filters in force, e.g. ``severity HIGH, blocked only``."""
    parts = []
    for field, label, _, _ in TEXT_FIELDS:
        if alerts and field in VIOLATIONS_ONLY:
            continue
        value = getattr(filters, field)
        if value:
            parts.append(f"{label.lower()} {_text_of(value)}")
    if filters.block and not alerts:
        parts.append("blocked only")
    return ", ".join(parts)


def _text_of(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(value)
    return value or ""


def _value_of(text: str, listed: bool, field: str) -> Any:
    text = text.strip()
    if not listed:
        return text or None
    items = [x.strip() for x in text.split(",") if x.strip()]
    if field == "severity":
        items = [x.upper() for x in items]
    return items or None


class ViolationFiltersDialog(ModalScreen[ViolationFilters | None]):
    """Edit the filters; ctrl+s applies, ctrl+r clears them all, Esc cancels."""

    DEFAULT_CSS = """
    ViolationFiltersDialog .field-row { margin: 0 0 0 0; }
    ViolationFiltersDialog #block { margin: 0 0 1 12; height: 1; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="violation_filters.cancel"),
        Binding("ctrl+s", "apply", "Apply", id="violation_filters.apply", priority=True),
        Binding("ctrl+r", "clear", "Clear all", id="violation_filters.clear", priority=True),
    ]

    def __init__(self, filters: ViolationFilters, *, alerts: bool = False) -> None:
        super().__init__()
        self.filters = filters
        self.alerts = alerts

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="form-dialog"):
            yield Label("Alert filters" if self.alerts else "Violation filters",
                        classes="dialog-title")
            for field, label, placeholder, _ in TEXT_FIELDS:
                if self.alerts and field in VIOLATIONS_ONLY:
                    continue
                with Horizontal(classes="field-row"):
                    yield Label(label, classes="field-label")
                    yield Input(_text_of(getattr(self.filters, field)), placeholder=placeholder,
                                id=f"f-{field}", compact=True)
            if not self.alerts:
                yield Checkbox("Blocked only", bool(self.filters.block), id="block",
                               compact=True)
            with Horizontal(classes="buttons"):
                yield Button("Clear all (ctrl+r)", id="clear", compact=True)
                yield Button("Apply (ctrl+s)", id="apply", variant="primary", compact=True)

    @on(Input.Submitted)
    @on(Button.Pressed, "#apply")
    def action_apply(self) -> None:
        values: dict[str, Any] = {}
        for field, _, _, listed in TEXT_FIELDS:
            box = self.query(f"#f-{field}")
            if box:
                values[field] = _value_of(box.first(Input).value, listed, field)
        if not self.alerts:
            values["block"] = True if self.query_one("#block", Checkbox).value else None
        self.dismiss(self.filters.model_copy(update=values))

    @on(Button.Pressed, "#clear")
    def action_clear(self) -> None:
        self.dismiss(ViolationFilters())

    def action_cancel(self) -> None:
        self.dismiss(None)


def detail_lines(item: Any) -> list[tuple[str, str]]:
    """A violation's or alert's fields as (label, value) pairs, in reading order."""
    lines = [("Time", item.timestamp.isoformat()), ("Policy", item.policy_name)]
    if hasattr(item, "explanation"):
        lines += [("Severity", str(item.severity or "")),
                  ("Blocked", "yes" if item.block else "no"),
                  ("Explanation", item.explanation)]
    else:
        lines.append(("Message", item.message))
    lines += [("Repository", item.repo_name), ("AI key", item.repo_ai_api_key_name),
              ("User", item.user_name), ("Model", f"{item.llm_type} {item.llm_model}"),
              ("Host", item.host), ("Conversation", item.conversation_id or "—")]
    return lines


class ViolationDetailDialog(ModalScreen[None]):
    """Every field of one violation or alert (never the prompt: the platform keeps none)."""

    DEFAULT_CSS = """
    ViolationDetailDialog .field-row { height: auto; }
    ViolationDetailDialog .field-row Static { width: 1fr; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,enter,q", "close", "Close", id="violation_detail.close"),
    ]

    def __init__(self, item: Any) -> None:
        super().__init__()
        self.item = item

    def compose(self) -> ComposeResult:
        kind = "Violation" if hasattr(self.item, "explanation") else "Alert"
        with Vertical(id="dialog", classes="form-dialog"):
            yield Label(f"{kind} of {self.item.policy_name}", classes="dialog-title")
            for label, value in detail_lines(self.item):
                with Horizontal(classes="field-row"):
                    yield Label(label, classes="field-label")
                    yield Static(value, markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Close (Esc)", id="close", compact=True)

    @on(Button.Pressed, "#close")
    def action_close(self) -> None:
        self.dismiss(None)
