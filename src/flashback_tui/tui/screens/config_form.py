"""The create / edit form of a configuration, and the rotate-secret dialog.

Every field is checked as you type (a duplicate name too, case-insensitively within the
workspace); the server's 400 is shown next to the field it names, in plain words. Moving a
configuration to another origin or provider type asks for the secret again. Esc with changes
asks before discarding them. When saving fails the dialog stays open with everything typed;
on success it dismisses with :class:`ConfigSaved`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

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
from flashback_tui.api.models.common import NAME_MAX_LENGTH, SECRET_MAX_LENGTH
from flashback_tui.domain.fields import field_problems, sentence
from flashback_tui.domain.fields import split_field_message as _split
from flashback_tui.domain.origins import needs_secret_again
from flashback_tui.tui.errors import describe_error
from flashback_tui.tui.messages import ConfigSaved
from flashback_tui.tui.screens.base import BaseModal
from flashback_tui.tui.screens.confirm import ConfirmDialog

if TYPE_CHECKING:
    from flashback_tui.tui.session_state import SessionState

#: Why the secret is asked again when the endpoint's origin or the provider type changes.
SECRET_AGAIN = ("The endpoint's origin or the provider changed: type the secret again "
                "(a stored secret is only sent where it was given).")

def field_of_message(message: str) -> str | None:
    """The form field a server or local message is about (``"name: ..."`` -> ``name``)."""
    return _split(message)[0]


class ConfigFormScreen(BaseModal[ConfigSaved | None]):
    """Create (``llm`` None) or edit a configuration."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="form.cancel"),
        Binding("ctrl+s", "save", "Save", id="form.save", priority=True),
    ]

    def __init__(
        self,
        state: SessionState,
        llm: AiLlm | None,
        *,
        workspaces: list[Workspace] | None = None,
        default_workspace_id: str | None = None,
        taken_names: dict[str, set[str]] | None = None,
    ) -> None:
        super().__init__(state)
        self.llm = llm
        self.workspaces = workspaces or []
        self.default_workspace_id = default_workspace_id
        self.taken_names = taken_names or {}
        """Names in use per workspace id, case-folded (the one being edited included)."""
        self.saving = False
        self._initial: dict[str, object] | None = None

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
        self.call_after_refresh(self._remember_initial)

    def _remember_initial(self) -> None:
        self._initial = self._values()

    def _values(self) -> dict[str, object]:
        values: dict[str, object] = {w.id or "": w.value for w in self.query(Input)}
        values.update({w.id or "": w.value for w in self.query(Select)})
        return values

    @property
    def changed(self) -> bool:
        """Whether anything was typed or chosen since the form opened."""
        return self._initial is not None and self._values() != self._initial

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
        self._check_secret_again()

    @on(Select.Changed, "#ai_type")
    def _type_changed(self) -> None:
        self._check_secret_again()

    @on(Input.Changed, "#name")
    @on(Select.Changed, "#workspace")
    def _name_changed(self) -> None:
        self.show_field_error("name", self._name_problem(self._value("name")))

    @on(Input.Changed, "#secret")
    def _secret_changed(self, event: Input.Changed) -> None:
        if len(event.value) > SECRET_MAX_LENGTH:
            self.show_field_error("secret", f"Secret is too long: at most {SECRET_MAX_LENGTH}"
                                  " characters.")
        elif event.value:
            self.show_field_error("secret", "")
        else:
            self._check_secret_again()

    @on(Input.Changed, "#key")
    def _key_changed(self, event: Input.Changed) -> None:
        too_long = len(event.value) > SECRET_MAX_LENGTH
        self.show_field_error("key", f"Key is too long: at most {SECRET_MAX_LENGTH} characters."
                              if too_long else "")

    def _name_problem(self, value: str) -> str:
        name = value.strip()
        if not name:
            return "A name is required." if self._initial is not None else ""
        if len(name) > NAME_MAX_LENGTH:
            return f"Name is too long: at most {NAME_MAX_LENGTH} characters."
        workspace = self.llm.workspace_id if self.llm else self._workspace_id()
        same = self.llm is not None and name.casefold() == self.llm.name.casefold()
        if not same and name.casefold() in self.taken_names.get(workspace or "", set()):
            return f"A configuration named {name!r} already exists in this workspace."
        return ""

    def _workspace_id(self) -> str | None:
        if not self.creating:
            return None
        value = self.query_one("#workspace", Select).value
        return value if isinstance(value, str) else None

    @property
    def secret_needed_again(self) -> bool:
        """Editing: whether the endpoint or type now differ enough to need the secret."""
        if self.llm is None:
            return False
        endpoint = self._value("endpoint").strip() or self.llm.endpoint
        provider = self.query_one("#ai_type", Select).value
        return needs_secret_again(self.llm.endpoint, self.llm.ai_type, endpoint, provider)

    def _check_secret_again(self) -> None:
        if self.llm is None:
            return
        if self.secret_needed_again and not self._value("secret"):
            self.show_field_error("secret", SECRET_AGAIN)
        elif not self._value("secret") or len(self._value("secret")) <= SECRET_MAX_LENGTH:
            self.show_field_error("secret", "")

    def _endpoint_problem(self, value: str) -> str:
        provider = self.query_one("#ai_type", Select).value
        if not value.strip():
            return "Required for OTHER providers." if provider == AiType.OTHER else ""
        try:
            check_endpoint(value)
        except ValueError as exc:
            return sentence(str(exc))
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
        """Close; with changes, ask first."""
        if not self.changed:
            self.dismiss(None)
            return

        def answered(discard: bool | None) -> None:
            if discard:
                self.dismiss(None)

        self.app.push_screen(ConfirmDialog("Discard your changes?",
                                           "What you typed in this form will be lost.",
                                           yes="Discard", no="Keep editing", danger=True),
                             answered)

    def _value(self, field: str) -> str:
        return self.query_one(f"#{field}", Input).value

    def _build_body(self) -> AiLlmCreate | AiLlmUpdate | None:
        """The request body from the fields, or None after showing what is wrong."""
        problems: dict[str, str] = {}
        name = self._value("name").strip()
        if problem := self._name_problem(name) or ("" if name else "A name is required."):
            problems["name"] = problem
        provider = self.query_one("#ai_type", Select).value
        endpoint = self._value("endpoint").strip()
        if problem := self._endpoint_problem(endpoint):
            problems["endpoint"] = problem
        key = self._value("key")
        secret = self._value("secret")
        if self.creating and not secret:
            problems["secret"] = "A secret is required for a new configuration."
        elif not secret and self.secret_needed_again:
            problems["secret"] = SECRET_AGAIN
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
            for field, message in field_problems(exc.errors()):
                self.show_field_error(field, message)
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
        client = self.state.client
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
            self.show_field_error(*_split(error.message))
            return
        if isinstance(error, FlashbackError):
            report = describe_error(error, self.state.backend_label)
            # The embedded platform's trouble in its own words, with no URL to check.
            why = self.state.platform_trouble or report.message
            hint = "Press ctrl+s to try again." if self.state.local else report.hint
            self.show_field_error(None, f"Not saved: {why} {hint}")
            return
        super().on_worker_failed(worker, error)


class RotateSecretDialog(BaseModal[ConfigSaved | None]):
    """Replace the stored secret of a configuration (a PUT with only ``secret``)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="rotate.cancel"),
        Binding("ctrl+s", "save", "Save", id="rotate.save", priority=True),
    ]

    def __init__(self, state: SessionState, llm: AiLlm) -> None:
        super().__init__(state)
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
            self._error(field_problems(exc.errors())[0][1])
            return
        self._error("")
        self._rotate(body)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)

    @work(group="save", exclusive=True, exit_on_error=False)
    async def _rotate(self, body: AiLlmUpdate) -> None:
        client = self.state.client
        if client is None:
            raise RuntimeError("not connected")
        answer = await client.update_ai_llm(self.llm.id, body)
        self.dismiss(ConfigSaved(answer.ai_llm_id, created=False))

    def on_worker_failed(self, worker: Worker[Any], error: BaseException) -> None:
        report = describe_error(error, self.state.backend_label)
        self._error(f"Not rotated: {report.message} {report.hint}")


def _provider_options(current: object) -> list[tuple[str, object]]:
    """The provider choices; a type this version does not know is kept as it came."""
    options: list[tuple[str, object]] = [(t.value, t) for t in AiType]
    if not isinstance(current, AiType):
        options.append((str(current), current))
    return options
