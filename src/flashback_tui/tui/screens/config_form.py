"""The create / edit form of a configuration, and the rotate-secret dialog.

Local checks run as you type; the server's 400 message is shown next to the field it names.
When saving fails the dialog stays open with everything typed. On success it dismisses with
:class:`ConfigSaved`, and the list validates the configuration in the background.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from pydantic import SecretStr, ValidationError
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Input, Label, Select, Static
from textual.worker import Worker

from flashback_tui.api.errors import BadRequestError, FlashbackError
from flashback_tui.api.models import (
    DEFAULT_ENDPOINTS,
    AiLlm,
    AiLlmCreate,
    AiLlmUpdate,
    AiType,
    Workspace,
    check_endpoint,
)
from flashback_tui.tui.errors import describe_error
from flashback_tui.tui.messages import ConfigSaved
from flashback_tui.tui.screens.base import BaseModal

#: Form fields, keyed by the names the API uses in its messages.
FIELD_ALIASES = {
    "name": "name",
    "aitype": "ai_type",
    "ai_type": "ai_type",
    "provider": "ai_type",
    "endpoint": "endpoint",
    "key": "key",
    "secret": "secret",
    "workspaceid": "workspace",
    "workspace_id": "workspace",
    "workspace": "workspace",
}
_LEADING_FIELD = re.compile(r"^\s*([A-Za-z_]+)\s*:")


def field_of_message(message: str) -> str | None:
    """The form field a server or local message is about (``"name: ..."`` -> ``name``)."""
    match = _LEADING_FIELD.match(message)
    if match and match.group(1).lower() in FIELD_ALIASES:
        return FIELD_ALIASES[match.group(1).lower()]
    words = re.findall(r"[A-Za-z_]+", message.lower())
    for candidate in ("secret", "endpoint", "aitype", "workspaceid", "key", "name"):
        if candidate in words:
            return FIELD_ALIASES[candidate]
    if "already exists" in message.lower():
        return "name"
    return None


def _strip_field(message: str) -> str:
    return _LEADING_FIELD.sub("", message, count=1).strip() or message


class ConfigFormScreen(BaseModal[ConfigSaved | None]):
    """Create (``llm`` None) or edit a configuration."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="form.cancel"),
        Binding("ctrl+s", "save", "Save", id="form.save", priority=True),
    ]

    def __init__(
        self,
        llm: AiLlm | None,
        *,
        workspaces: list[Workspace] | None = None,
        default_workspace_id: str | None = None,
    ) -> None:
        super().__init__()
        self.llm = llm
        self.workspaces = workspaces or []
        self.default_workspace_id = default_workspace_id
        self.saving = False

    @property
    def creating(self) -> bool:
        return self.llm is None

    # ----------------------------------------------------------------------------------------
    # Layout
    # ----------------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        llm = self.llm
        title = "New configuration" if llm is None else f"Edit {llm.name}"
        ai_type = llm.ai_type if llm else AiType.OPENAI
        with Vertical(id="dialog", classes="form-dialog"):
            yield Label(title, id="title", classes="dialog-title")
            with VerticalScroll(id="fields", can_focus=False):
                yield from self._field("name", "Name", Input(
                    value=llm.name if llm else "", placeholder="e.g. Production OpenAI",
                    id="name", compact=True))
                yield from self._field("ai_type", "Provider", Select(
                    _provider_options(ai_type), value=ai_type, allow_blank=False,
                    id="ai_type", compact=True))
                endpoint = (llm.endpoint or "") if llm else (DEFAULT_ENDPOINTS[ai_type] or "")
                yield from self._field("endpoint", "Endpoint", Input(
                    value=endpoint, placeholder="https://…", id="endpoint", compact=True))
                key_hint = (f"stored: {llm.key}; blank keeps it" if llm and llm.key
                            else "optional (AWS: access key id)")
                yield from self._field("key", "Key", Input(
                    placeholder=key_hint, password=True, id="key", compact=True))
                secret_hint = ("blank keeps the stored secret" if llm
                               else "required (API key / secret access key)")
                yield from self._field("secret", "Secret", Input(
                    placeholder=secret_hint, password=True, id="secret", compact=True))
                if llm is None:
                    options = [(w.name, w.id) for w in self.workspaces]
                    default = (self.default_workspace_id
                               if any(w.id == self.default_workspace_id for w in self.workspaces)
                               else (options[0][1] if options else Select.NULL))
                    yield from self._field("workspace", "Workspace", Select(
                        options, value=default, allow_blank=not options, id="workspace",
                        prompt="No workspace you may write to", compact=True))
            yield Static("", id="form-error", classes="field-error")
            with Horizontal(classes="buttons"):
                yield Button("Save (ctrl+s)", variant="primary", id="save", compact=True)
                yield Button("Cancel (esc)", id="cancel", compact=True)

    @staticmethod
    def _field(name: str, label: str, widget: Any) -> ComposeResult:
        with Vertical(classes="field"):
            with Horizontal(classes="field-row"):
                yield Label(label, classes="field-label")
                yield widget
            yield Static("", id=f"{name}-error", classes="field-error")

    def on_mount(self) -> None:
        for error in self.query(".field-error"):
            error.display = False
        self.query_one("#name", Input).focus()

    # ----------------------------------------------------------------------------------------
    # As you type
    # ----------------------------------------------------------------------------------------

    def show_field_error(self, field: str | None, message: str) -> None:
        """Show ``message`` under ``field`` (or at the bottom when no field matches)."""
        target = self.query(f"#{field}-error") if field else None
        box = target.first(Static) if target else self.query_one("#form-error", Static)
        box.update(message)
        box.display = bool(message)

    def clear_errors(self) -> None:
        for error in self.query(".field-error"):
            error.display = False

    @on(Select.Changed, "#ai_type")
    def _provider_changed(self, event: Select.Changed) -> None:
        """Pre-fill the provider's usual endpoint unless the user typed their own."""
        endpoint = self.query_one("#endpoint", Input)
        current = endpoint.value.strip().rstrip("/")
        defaults = {e for e in DEFAULT_ENDPOINTS.values() if e}
        if not current or current in defaults:
            new_type = event.value if isinstance(event.value, AiType) else AiType.OTHER
            endpoint.value = DEFAULT_ENDPOINTS.get(new_type) or ""

    @on(Input.Changed, "#endpoint")
    def _endpoint_changed(self, event: Input.Changed) -> None:
        self.show_field_error("endpoint", self._endpoint_problem(event.value))

    @on(Input.Changed, "#name")
    def _name_changed(self, event: Input.Changed) -> None:
        if event.value.strip():
            self.show_field_error("name", "")

    @on(Input.Changed, "#secret")
    def _secret_changed(self, event: Input.Changed) -> None:
        if event.value:
            self.show_field_error("secret", "")

    def _endpoint_problem(self, value: str) -> str:
        provider = self.query_one("#ai_type", Select).value
        if not value.strip():
            return "Required for OTHER providers." if provider == AiType.OTHER else ""
        try:
            check_endpoint(value)
        except ValueError as exc:
            return _sentence(str(exc))
        return ""

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        """Enter moves to the next field; on the last one it saves."""
        inputs = [w for w in self.query(Input) if w.display]
        if event.input is inputs[-1]:
            self.action_save()
        else:
            self.focus_next()

    # ----------------------------------------------------------------------------------------
    # Saving
    # ----------------------------------------------------------------------------------------

    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        if self.saving:
            return
        self.clear_errors()
        body = self._build_body()
        if body is None:
            return
        self.saving = True
        self.query_one("#save", Button).disabled = True
        self._save(body)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)

    def _value(self, field: str) -> str:
        return self.query_one(f"#{field}", Input).value

    def _build_body(self) -> AiLlmCreate | AiLlmUpdate | None:
        """The request body from the fields, or None after showing what is wrong."""
        problems: dict[str, str] = {}
        name = self._value("name").strip()
        if not name:
            problems["name"] = "A name is required."
        provider = self.query_one("#ai_type", Select).value
        endpoint = self._value("endpoint").strip()
        if problem := self._endpoint_problem(endpoint):
            problems["endpoint"] = problem
        key = self._value("key")
        secret = self._value("secret")
        if self.creating and not secret:
            problems["secret"] = "A secret is required for a new configuration."
        workspace_id = None
        if self.creating:
            value = self.query_one("#workspace", Select).value
            workspace_id = value if isinstance(value, str) else None
            if not workspace_id:
                problems["workspace"] = "Choose a workspace you may write to."
        for field, message in problems.items():
            self.show_field_error(field, message)
        if problems:
            return None
        try:
            return self._model(name, provider, endpoint, key, secret, workspace_id)
        except ValidationError as exc:
            for error in exc.errors():
                field = FIELD_ALIASES.get(str(error["loc"][0]).lower()) if error["loc"] else None
                self.show_field_error(field, str(error["msg"]).removeprefix("Value error, "))
            return None

    def _model(self, name: str, provider: Any, endpoint: str, key: str, secret: str,
               workspace_id: str | None) -> AiLlmCreate | AiLlmUpdate:
        key_secret = SecretStr(key) if key else None
        secret_value = SecretStr(secret) if secret else None
        if self.llm is None:
            fields: dict[str, Any] = {"name": name, "ai_type": provider,
                                      "workspace_id": workspace_id}
            if endpoint:
                fields["endpoint"] = endpoint
            if key_secret is not None:
                fields["key"] = key_secret
            fields["secret"] = secret_value
            return AiLlmCreate.model_validate(fields)
        changes: dict[str, Any] = {}
        if name != self.llm.name:
            changes["name"] = name
        if provider != self.llm.ai_type:
            changes["ai_type"] = provider
        if endpoint and endpoint.rstrip("/") != (self.llm.endpoint or "").rstrip("/"):
            changes["endpoint"] = endpoint
        if key_secret is not None:
            changes["key"] = key_secret
        if secret_value is not None:
            changes["secret"] = secret_value
        return AiLlmUpdate.model_validate(changes)

    @work(group="save", exclusive=True, exit_on_error=False)
    async def _save(self, body: AiLlmCreate | AiLlmUpdate) -> None:
        client = self.flashback.client
        try:
            if client is None:
                raise RuntimeError("not connected")
            if isinstance(body, AiLlmCreate):
                answer = await client.create_ai_llm(body)
                self.dismiss(ConfigSaved(answer.ai_llm_id, created=True))
            else:
                assert self.llm is not None
                if not body.model_fields_set:
                    self.dismiss(None)
                    return
                answer = await client.update_ai_llm(self.llm.id, body)
                self.dismiss(ConfigSaved(answer.ai_llm_id, created=False))
        finally:
            self.saving = False
            if self.is_attached:
                self.query_one("#save", Button).disabled = False

    def on_worker_failed(self, worker: Worker[Any], error: BaseException) -> None:
        if isinstance(error, BadRequestError):
            self.show_field_error(field_of_message(error.message),
                                  _sentence(_strip_field(error.message)))
            return
        if isinstance(error, FlashbackError):
            report = describe_error(error, self.flashback.backend_label)
            self.show_field_error(None, f"Not saved: {report.message} {report.hint}")
            return
        super().on_worker_failed(worker, error)


class RotateSecretDialog(BaseModal[ConfigSaved | None]):
    """Replace the stored secret of a configuration (a PUT with only ``secret``)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="rotate.cancel"),
        Binding("ctrl+s", "save", "Save", id="rotate.save", priority=True),
    ]

    def __init__(self, llm: AiLlm) -> None:
        super().__init__()
        self.llm = llm

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="form-dialog small"):
            yield Label(f"Rotate the secret of {self.llm.name}", classes="dialog-title")
            yield Static("The new secret replaces the stored one; the configuration is "
                         "validated again afterwards.", classes="dialog-text")
            with Vertical(classes="field"):
                with Horizontal(classes="field-row"):
                    yield Label("New secret", classes="field-label")
                    yield Input(password=True, id="secret",
                                placeholder="new API key / secret", compact=True)
                yield Static("", id="secret-error", classes="field-error")
            with Horizontal(classes="buttons"):
                yield Button("Rotate (ctrl+s)", variant="primary", id="save", compact=True)
                yield Button("Cancel (esc)", id="cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#secret-error").display = False
        self.query_one("#secret", Input).focus()

    def _error(self, message: str) -> None:
        box = self.query_one("#secret-error", Static)
        box.update(message)
        box.display = bool(message)

    @on(Input.Submitted)
    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        secret = self.query_one("#secret", Input).value
        if not secret:
            self._error("Type the new secret.")
            return
        try:
            body = AiLlmUpdate(secret=SecretStr(secret))
        except ValidationError as exc:
            self._error(str(exc.errors()[0]["msg"]).removeprefix("Value error, "))
            return
        self._error("")
        self._rotate(body)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)

    @work(group="save", exclusive=True, exit_on_error=False)
    async def _rotate(self, body: AiLlmUpdate) -> None:
        client = self.flashback.client
        if client is None:
            raise RuntimeError("not connected")
        answer = await client.update_ai_llm(self.llm.id, body)
        self.dismiss(ConfigSaved(answer.ai_llm_id, created=False))

    def on_worker_failed(self, worker: Worker[Any], error: BaseException) -> None:
        report = describe_error(error, self.flashback.backend_label)
        self._error(f"Not rotated: {report.message} {report.hint}")


def _sentence(text: str) -> str:
    """``text`` with its first letter upper-cased (the rest untouched: URL stays URL)."""
    return text[:1].upper() + text[1:]


def _provider_options(current: object) -> list[tuple[str, object]]:
    """The provider choices; a type this version does not know is kept as it came."""
    options: list[tuple[str, object]] = [(t.value, t) for t in AiType]
    if not isinstance(current, AiType):
        options.append((str(current), current))
    return options
