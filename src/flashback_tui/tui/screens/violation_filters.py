"""The filters dialog of the violation and alert lists, and the details of one row.

Repository and policy are picked by name from the choices the list hands in (they may still
be loading, or have failed to load: the dialog says so and the other filters still work).
Lists are comma-separated (``HIGH, MEDIUM``); From and To are a date (``2026-01-31``; To
includes that whole day) or an ISO date-time, UTC unless it says ``Z`` or an offset. A bad
value is said beside its field and the dialog stays open with everything typed.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Select, Static

from flashback_tui.api.models import ViolationFilters, format_timestamp
from flashback_tui.domain.moments import parse_moment
from flashback_tui.tui.policy_scope import Choices, FilterChoices

#: (field, label) of every filter, in the order the dialog and the line in force show them.
FIELDS: tuple[tuple[str, str], ...] = (
    ("severity", "Severity"), ("repo_id", "Repository"), ("policy_id", "Policy"),
    ("llm_model", "Model"), ("host", "Host"), ("from_", "From"), ("to", "To"))
#: Filters picked by name (their value is an id) -> the attribute of FilterChoices listing them.
PICKED = {"repo_id": "repos", "policy_id": "policies"}
#: Placeholders of the typed filters.
PLACEHOLDERS = {
    "severity": "LOW, MEDIUM, HIGH (any when empty)",
    "llm_model": "e.g. gpt-4o-mini, several with commas",
    "host": "e.g. api.openai.com",
    "from_": "2026-01-31 or 2026-01-31T08:00:00Z (UTC)",
    "to": "same form as From; a date includes that day",
}
LISTED = frozenset({"severity", "llm_model", "host"})
VIOLATIONS_ONLY = frozenset({"severity", "block"})
RISKS = ("LOW", "MEDIUM", "HIGH")
UNKNOWN = "(unknown)"
LOADING = "(loading…)"


def describe_filters(filters: ViolationFilters, *, alerts: bool = False,
                     names: Mapping[str, Mapping[str, str]] | None = None,
                     unknown: str = UNKNOWN) -> str:
    """The filters in force, e.g. ``severity HIGH, policy no secrets, blocked only``.

    ``names`` gives the label of a repository or policy id per field (``repo_id``,
    ``policy_id``); an id it does not know reads ``unknown``.
    """
    parts = []
    for field, label in FIELDS:
        if alerts and field in VIOLATIONS_ONLY:
            continue
        value = getattr(filters, field)
        if not value:
            continue
        text = (((names or {}).get(field) or {}).get(value, unknown) if field in PICKED
                else _text_of(value))
        parts.append(f"{label.lower()} {text}")
    if filters.block and not alerts:
        parts.append("blocked only")
    return ", ".join(parts)


def _text_of(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(value)
    return value or ""


def _value_of(text: str, field: str) -> Any:
    text = text.strip()
    if field not in LISTED:
        return text or None
    items = [x.strip() for x in text.split(",") if x.strip()]
    if field == "severity":
        items = [x.upper() for x in items]
    return items or None


def filter_problems(texts: Mapping[str, str]) -> dict[str, str]:
    """What is wrong with the typed filters, by field ({} when nothing is)."""
    problems: dict[str, str] = {}
    typed = [x.strip() for x in texts.get("severity", "").split(",") if x.strip()]
    wrong = [x for x in typed if x.upper() not in RISKS]
    if wrong:
        problems["severity"] = (f"Severity must be LOW, MEDIUM or HIGH (several with commas), "
                                f"not {wrong[0]!r}.")
    moments = {}
    for field, label in (("from_", "From"), ("to", "To")):
        text = texts.get(field, "").strip()
        if not text:
            continue
        try:
            moments[field] = _moment(field, text)
        except ValueError:
            problems[field] = (f"{label} must be a date such as 2026-01-31 or a time such as "
                               "2026-01-31T08:00:00Z.")
    if len(moments) == 2 and moments["from_"] > moments["to"]:
        problems["from_"] = "From must not be after To."
    return problems


def _moment(field: str, text: str) -> datetime:
    """The moment typed in From or To (a date in To: that day's last millisecond)."""
    return parse_moment(text, end_of_day=field == "to")


def wire_filters(filters: ViolationFilters) -> ViolationFilters:
    """``filters`` as sent: From/To as ISO instants in UTC (a date To: its last millisecond)."""
    update = {}
    for field in ("from_", "to"):
        text = getattr(filters, field)
        if text:
            try:
                update[field] = format_timestamp(_moment(field, text))
            except ValueError:
                pass  # sent as given: the platform says what is wrong with it
    return filters.model_copy(update=update) if update else filters


class ViolationFiltersDialog(ModalScreen[ViolationFilters | None]):
    """Edit the filters; ctrl+s applies (when they are sound), ctrl+r clears them, Esc cancels.

    ``choices`` None: the repositories and policies are still loading; the list's screen
    hands them in with :meth:`show_choices` (or says why not with :meth:`choices_failed`).
    ``known`` names ids already seen (the list's own rows) until then.
    """

    DEFAULT_CSS = """
    ViolationFiltersDialog #block { margin: 0 0 1 12; height: 1; }
    ViolationFiltersDialog .field-note { color: $text-muted; padding: 0 0 0 12; height: auto; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="violation_filters.cancel"),
        Binding("ctrl+s", "apply", "Apply", id="violation_filters.apply", priority=True),
        Binding("ctrl+r", "clear", "Clear all", id="violation_filters.clear", priority=True),
    ]

    def __init__(self, filters: ViolationFilters, *, alerts: bool = False,
                 choices: FilterChoices | None = None,
                 known: Mapping[str, Mapping[str, str]] | None = None) -> None:
        super().__init__()
        self.filters = filters
        self.alerts = alerts
        self.choices = choices
        self.known = known or {}
        self.choices_problem = ""

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="form-dialog"):
            yield Label("Alert filters" if self.alerts else "Violation filters",
                        classes="dialog-title")
            for field, label in FIELDS:
                if self.alerts and field in VIOLATIONS_ONLY:
                    continue
                with Horizontal(classes="field-row"):
                    yield Label(label, classes="field-label")
                    yield self._field_widget(field)
                if field == "policy_id":
                    yield Static(self._note(), id="choices-note", classes="field-note",
                                 markup=False)
                elif field not in PICKED:
                    yield Static("", id=f"{field}-error", classes="field-error", markup=False)
            if not self.alerts:
                yield Checkbox("Blocked only", bool(self.filters.block), id="block",
                               compact=True)
            with Horizontal(classes="buttons"):
                yield Button("Clear all (ctrl+r)", id="clear", compact=True)
                yield Button("Apply (ctrl+s)", id="apply", variant="primary", compact=True)

    def _field_widget(self, field: str) -> Input | Select[str]:
        value = getattr(self.filters, field)
        if field in PICKED:
            return Select(self._options(field, value), value=value or Select.NULL,
                          prompt="Any", id=f"f-{field}", compact=True)
        return Input(_text_of(value), placeholder=PLACEHOLDERS[field], id=f"f-{field}",
                     compact=True)

    def on_mount(self) -> None:
        for error in self.query(".field-error"):
            error.display = False
        # Choices that came between compose and mount were not drawn: offer them now.
        self._fill_choices()

    # -- the choices of repository and policy ---------------------------------------------------

    def _options(self, field: str, current: str | None) -> Choices:
        """The choices of ``field``, with the id in force among them even when not listed."""
        listed = getattr(self.choices, PICKED[field]) if self.choices else ()
        if not current or any(id_ == current for _, id_ in listed):
            return listed
        label = (self.known.get(field) or {}).get(current) or (
            LOADING if self.choices is None and not self.choices_problem else UNKNOWN)
        return ((label, current), *listed)

    def _note(self) -> str:
        if self.choices is not None:
            return ""
        if self.choices_problem:
            return (f"Could not load the repositories and policies. "
                    f"{self.choices_problem.rstrip('.')}. The other filters still work.")
        return "Loading the repositories and policies…"

    def show_choices(self, choices: FilterChoices) -> None:
        """The repositories and policies have loaded: offer them (keeping what is chosen)."""
        self.choices, self.choices_problem = choices, ""
        self._refill()

    def choices_failed(self, reason: str) -> None:
        """The repositories and policies could not be loaded: say so beside them."""
        if self.choices is None:
            self.choices_problem = reason or "The platform gave no answer."
            self._refill()

    def _refill(self) -> None:
        if self.is_mounted:  # else compose reads the choices, or on_mount fills them in
            self._fill_choices()

    def _fill_choices(self) -> None:
        for field in PICKED:
            select = self.query_one(f"#f-{field}", Select)
            chosen = select.selection
            select.set_options(self._options(field, chosen))
            if chosen:
                select.value = chosen
        note = self.query_one("#choices-note", Static)
        note.update(self._note())
        note.display = bool(self._note())

    # -- apply, clear, cancel -------------------------------------------------------------------

    def typed(self) -> dict[str, str]:
        """The text of every typed filter, by field."""
        return {field: box.value for field, _ in FIELDS if field not in PICKED
                for box in self.query(f"#f-{field}").results(Input)}

    def show_problems(self, problems: Mapping[str, str]) -> None:
        """Each problem under its field; the others cleared."""
        for field in self.typed():
            error = self.query_one(f"#{field}-error", Static)
            error.update(problems.get(field, ""))
            error.display = field in problems

    @on(Input.Changed)
    def _typed_again(self, event: Input.Changed) -> None:
        field = (event.input.id or "").removeprefix("f-")
        for error in self.query(f"#{field}-error").results(Static):
            error.display = False

    @on(Input.Submitted)
    @on(Button.Pressed, "#apply")
    def action_apply(self) -> None:
        texts = self.typed()
        problems = filter_problems(texts)
        self.show_problems(problems)
        if problems:
            first = next(field for field, _ in FIELDS if field in problems)
            self.query_one(f"#f-{first}", Input).focus()
            return
        values: dict[str, Any] = {field: _value_of(text, field) for field, text in texts.items()}
        for field in PICKED:
            values[field] = self.query_one(f"#f-{field}", Select).selection
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
