"""MemberDialog: who (an e-mail or a user id) and which role; answers ``(who, role)``."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

ROLES = ("READ", "WRITE", "ADMIN")


class MemberDialog(ModalScreen[tuple[str, str] | None]):
    """Add a member (``who`` empty) or change one's role (``who`` given, not editable)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="member.cancel"),
        Binding("ctrl+s", "save", "Save", id="member.save", priority=True),
    ]

    def __init__(self, title: str, *, who: str = "", role: str = "READ") -> None:
        super().__init__()
        self.title_text = title
        self.who = who
        self.role = role

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="form-dialog small"):
            yield Label(self.title_text, classes="dialog-title")
            with Horizontal(classes="field-row"):
                yield Label("Who", classes="field-label")
                yield Input(self.who, placeholder="e-mail or user id", id="who",
                            compact=True, disabled=bool(self.who))
            with Horizontal(classes="field-row"):
                yield Label("Role", classes="field-label")
                yield Select([(r, r) for r in ROLES], value=self.role, allow_blank=False,
                             id="role", compact=True)
            yield Static("", id="form-error", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Cancel (Esc)", id="cancel", compact=True)
                yield Button("Save (ctrl+s)", id="save", variant="primary", compact=True)

    def on_mount(self) -> None:
        self.query_one("#role" if self.who else "#who").focus()

    @on(Input.Submitted)
    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        who = self.query_one("#who", Input).value.strip()
        if not who:
            self.query_one("#form-error", Static).update("Give an e-mail or a user id.")
            return
        self.dismiss((who, str(self.query_one("#role", Select).value)))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
