"""Dialogs of a repository's AI API keys: name a new key (or rename one), and its secret.

:class:`KeyNameDialog` asks for a name (and, for a new key, the provider type).
:class:`KeySecretDialog` shows a new key's secret, the one time it is ever shown: ``c`` copies
it with OSC 52, and only "I have stored it" (or ``s``) closes the dialog.
"""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from flashback_tui.api.models import AiType

COPY_NOTE = "(OSC 52: your terminal may not support it, tmux needs set-clipboard on)"


class KeyNameDialog(ModalScreen[tuple[str, str] | None]):
    """A key's name and, for a new key, its type; answers ``(name, type)`` or None."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="key_name.cancel"),
        Binding("ctrl+s", "save", "Save", id="key_name.save", priority=True),
    ]

    def __init__(self, title: str, name: str = "", *, with_type: bool = True) -> None:
        super().__init__()
        self.title_text = title
        self.initial = name
        self.with_type = with_type

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="form-dialog small"):
            yield Label(self.title_text, classes="dialog-title")
            with Horizontal(classes="field-row"):
                yield Label("Name", classes="field-label")
                yield Input(self.initial, placeholder="e.g. the service using it", id="name",
                            compact=True)
            if self.with_type:
                with Horizontal(classes="field-row"):
                    yield Label("Type", classes="field-label")
                    yield Select([(t.value, t.value) for t in AiType], value=AiType.OPENAI.value,
                                 allow_blank=False, id="type", compact=True)
            yield Static("", id="form-error", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Cancel (Esc)", id="cancel", compact=True)
                yield Button("Save (ctrl+s)", id="save", variant="primary", compact=True)

    def on_mount(self) -> None:
        self.query_one("#name", Input).focus()

    @on(Input.Submitted, "#name")
    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        name = self.query_one("#name", Input).value.strip()
        if not name:
            self.query_one("#form-error", Static).update("A key needs a name.")
            return
        kind = str(self.query_one("#type", Select).value) if self.with_type else ""
        self.dismiss((name, kind))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class KeySecretDialog(ModalScreen[None]):
    """A new key's secret, shown once; closes only when the user says it is stored."""

    DEFAULT_CSS = """
    KeySecretDialog #secret { color: $warning; text-style: bold; padding: 0 0 1 0; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("c", "copy", "Copy secret", id="key_secret.copy"),
        Binding("s", "stored", "I have stored it", id="key_secret.stored"),
    ]

    def __init__(self, key_name: str, secret: str) -> None:
        super().__init__()
        self.key_name = key_name
        self._secret = secret

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="form-dialog"):
            yield Label(f"AI key {self.key_name} created", classes="dialog-title")
            yield Static("Its secret is shown now and will not be shown again. Store it"
                         " where your application reads it (as its OpenAI API key).",
                         classes="dialog-text", markup=False)
            yield Static(self._secret, id="secret", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Copy (c)", id="copy", compact=True)
                yield Button("I have stored it (s)", id="stored", variant="primary",
                             compact=True)

    def on_mount(self) -> None:
        self.query_one("#copy", Button).focus()

    @on(Button.Pressed, "#copy")
    def action_copy(self) -> None:
        """Copy the secret with OSC 52."""
        self.app.copy_to_clipboard(self._secret)
        self.notify(f"Secret copied {COPY_NOTE}.", title="Copied")

    @on(Button.Pressed, "#stored")
    def action_stored(self) -> None:
        """Close: the secret is gone from the screen for good."""
        self._secret = ""
        self.dismiss(None)
