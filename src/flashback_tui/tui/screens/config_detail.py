"""ConfigDetailScreen: everything about one configuration, on one scrollable page.

Every field with the id and the workspace, the masked key, the full last validation message
with its time, the repositories that use it, its usage totals (``GET /ai/llm/stats``), the
models it offers (``POST /ai/models`` for a repository that links it) and its change history
(``POST /systemevent`` with ``contextId``). Each part loads in its own worker, which posts
what it found; a part the platform refuses says so and the rest still shows. ``y`` copies the
id (OSC 52); Esc goes back to the list, on the same row.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Static
from textual.worker import Worker

from flashback_tui.api.models import AiModelsRequest, SystemEventQuery
from flashback_tui.domain.status import config_status
from flashback_tui.domain.usage import COUNTERS, counters_of
from flashback_tui.tui.errors import describe_error
from flashback_tui.tui.screens.base import BaseScreen, fill_header
from flashback_tui.tui.widgets.header_bar import HeaderBar
from flashback_tui.tui.widgets.key_bar import KeyBar

if TYPE_CHECKING:
    from flashback_tui.api.models import AiLlm, AiLlmStats, AiModel, SystemEvent
    from flashback_tui.tui.session_state import SessionState

#: How many change events are shown.
HISTORY_LIMIT = 20
COPY_NOTE = "(OSC 52: your terminal may not support it, tmux needs set-clipboard on)"


@dataclass
class DetailPartLoaded(Message):
    """One part of the page arrived: ``part`` is usage, models or history."""

    part: str
    value: Any


def event_line(event: SystemEvent) -> str:
    """``2026-01-15 10:30 updated by ops@example.com: endpoint, secret``."""
    when = event.timestamp.replace("T", " ")[:16]
    who = event.user_email or event.user_name or event.user_id
    line = f"{when}  {event.event} by {who}"
    changed = changed_fields(event.json_data)
    return f"{line}: {', '.join(changed)}" if changed else line


def changed_fields(json_data: str | None) -> list[str]:
    """The ``changed`` list of an event's ``jsonData`` (empty when it has none)."""
    if not json_data:
        return []
    try:
        data = json.loads(json_data)
    except ValueError:
        return []
    changed = data.get("changed") if isinstance(data, dict) else None
    return [str(name) for name in changed] if isinstance(changed, list) else []


class ConfigDetailScreen(BaseScreen):
    """The detail view of one configuration."""

    KEY_ORDER: ClassVar[tuple[str, ...]] = ("back", "copy_id", "reload")

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="detail.back"),
        Binding("y", "copy_id", "Copy id", id="detail.copy_id"),
        Binding("r", "reload", "Reload", id="detail.reload"),
    ]

    DEFAULT_CSS = """
    ConfigDetailScreen #detail-body { height: 1fr; padding: 0 1; }
    ConfigDetailScreen .detail-section { height: auto; margin: 0 0 1 0; }
    ConfigDetailScreen .detail-heading { text-style: bold; color: $primary; height: 1; }
    """

    def __init__(self, state: SessionState, llm: AiLlm, *, session_status: str = "") -> None:
        super().__init__(state)
        self.llm = llm
        self.session_status = session_status
        """The status this session worked out (a validation run here), when newer."""
        self.parts: dict[str, Any] = {}

    def compose(self) -> ComposeResult:
        yield HeaderBar()
        with VerticalScroll(id="detail-body"):
            yield Static(self._fields(), id="detail-fields", classes="detail-section")
            for part, title in (("usage", "Usage"), ("models", "Models"),
                                ("history", "Change history")):
                yield Static(title, classes="detail-heading")
                yield Static("Loading…", id=f"detail-{part}", classes="detail-section",
                             markup=False)
        yield KeyBar()

    def on_mount(self) -> None:
        self.title = f"Configuration {self.llm.name}"
        fill_header(self.query_one(HeaderBar), self.state,
                    workspace=self.state.workspace_name(self.llm.workspace_id),
                    role=self.state.role_label(self.llm.workspace_id))
        self.query_one("#detail-body").focus()
        self.action_reload()

    # -- the fields ------------------------------------------------------------------------------

    def _fields(self) -> Text:
        llm = self.llm
        status = config_status(llm)
        validated = llm.validated_at.astimezone().strftime("%Y-%m-%d %H:%M") \
            if llm.validated_at else ""
        if self.session_status:
            state_text = f"{self.session_status} (validated in this session)"
        else:
            state_text = str(status.state).replace("_", " ").capitalize()
            if status.message:
                state_text += f": {status.message}"
            if validated:
                state_text += f" (at {validated})"
            elif status.source == "available":
                state_text += " (listed as available)"
            elif status.source == "none":
                state_text += " (the platform does not say; press v in the list to validate)"
        repos = ", ".join(r.name for r in llm.repos) if llm.repos else (
            "none" if llm.repos is not None else "not known")
        workspace = self.state.workspace_name(llm.workspace_id)
        rows = [
            ("Name", llm.name),
            ("Id", llm.id),
            ("Workspace", f"{workspace} ({llm.workspace_id})" if workspace != llm.workspace_id
             else llm.workspace_id),
            ("Provider", str(llm.ai_type)),
            ("Endpoint", llm.endpoint or "the provider's default"),
            ("Key", llm.key or "none"),
            ("Secret", "stored, never shown"),
            ("Status", state_text),
            ("Used by", repos),
            ("Created", llm.created_at.astimezone().strftime("%Y-%m-%d %H:%M")
             if llm.created_at else "not known"),
        ]
        if llm.api_key_id:
            rows.append(("API key id", llm.api_key_id))
        text = Text()
        for index, (label, value) in enumerate(rows):
            if index:
                text.append("\n")
            text.append(f"{label:<10} ", style="dim")
            text.append(value, style="bold" if label in ("Name", "Id") else "")
        return text

    # -- loading ---------------------------------------------------------------------------------

    def action_reload(self) -> None:
        """Fetch usage, models and history again."""
        if self.state.client is None:
            return
        self._load_usage()
        self._load_models()
        self._load_history()

    @work(group="usage", exclusive=True, exit_on_error=False)
    async def _load_usage(self) -> None:
        assert self.state.client is not None
        answer = await self.state.client.get_ai_llm_stats(self.llm.id)
        mine = next((s for s in answer.stats if s.ai_llm_id == self.llm.id), None)
        self.post_message(DetailPartLoaded("usage", mine))

    @work(group="models", exclusive=True, exit_on_error=False)
    async def _load_models(self) -> None:
        assert self.state.client is not None
        if not self.llm.repos:
            self.post_message(DetailPartLoaded("models", None))
            return
        answer = await self.state.client.get_ai_models(
            AiModelsRequest(repo_id=self.llm.repos[0].id))
        models = [m for m in answer.models if str(m.ai_type) == str(self.llm.ai_type)]
        self.post_message(DetailPartLoaded("models", models))

    @work(group="history", exclusive=True, exit_on_error=False)
    async def _load_history(self) -> None:
        assert self.state.client is not None
        page = await self.state.client.get_system_events(
            SystemEventQuery(skip=0, take=HISTORY_LIMIT, context_id=self.llm.id))
        self.post_message(DetailPartLoaded("history", (list(page.events), page.total)))

    def on_detail_part_loaded(self, message: DetailPartLoaded) -> None:
        self.parts[message.part] = message.value
        box = self.query_one(f"#detail-{message.part}", Static)
        box.update(getattr(self, f"_{message.part}_text")(message.value))

    @staticmethod
    def _usage_text(stats: AiLlmStats | None) -> str:
        values = counters_of(stats)
        if not any(values):
            return "No usage recorded yet."
        return "  ".join(f"{c.label} {v:,}" for c, v in zip(COUNTERS, values, strict=True))

    def _models_text(self, models: list[AiModel] | None) -> str:
        if models is None:
            return "Not linked to a repository: the platform lists models per repository."
        if not models:
            return f"None listed yet for {self.llm.repos[0].name} (validate to fetch them)."
        names = ", ".join(m.name or m.id for m in models)
        return f"{len(models)} via {self.llm.repos[0].name}: {names}"

    @staticmethod
    def _history_text(value: tuple[list[SystemEvent], int]) -> str:
        events, total = value
        if not events:
            return "No changes recorded."
        lines = [event_line(e) for e in events]
        if total > len(events):
            lines.append(f"… and {total - len(events)} earlier")
        return "\n".join(lines)

    def on_worker_failed(self, worker: Worker[Any], error: BaseException) -> None:
        if worker.group in ("usage", "models", "history"):
            report = describe_error(error, self.state.backend_label)
            self.query_one(f"#detail-{worker.group}", Static).update(
                f"Not available: {report.message}")
            return
        super().on_worker_failed(worker, error)

    # -- keys ------------------------------------------------------------------------------------

    def action_copy_id(self) -> None:
        """Copy the id to the clipboard with OSC 52."""
        self.app.copy_to_clipboard(self.llm.id)
        self.notify(f"Copied {self.llm.id} {COPY_NOTE}.", title="Id copied")

    def action_back(self) -> None:
        """Back to the list (its cursor is where it was)."""
        self.dismiss()
