"""ConfirmDialog: a yes/no question that answers ``y``/``n`` as well as its buttons.

``dismiss(True)`` for yes, ``dismiss(False)`` for no (also Esc). The safe answer is focused.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Label, Static


class ConfirmDialog(ModalScreen[bool]):
    """Asks one question; ``y`` answers yes, ``n`` or Esc no."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes", id="confirm.yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm.no"),
        Binding("left,right", "switch", "Switch button", show=False),
    ]

    def __init__(self, title: str, text: str, *, yes: str = "Yes", no: str = "No",
                 danger: bool = False) -> None:
        super().__init__()
        self.title_text = title
        self.text = text
        self.yes = yes
        self.no = no
        self.danger = danger

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="form-dialog small"):
            yield Label(self.title_text, classes="dialog-title")
            yield Static(self.text, classes="dialog-text", markup=False)
            with Horizontal(classes="buttons"):
                yield Button(f"{self.no} (n)", id="no", compact=True)
                yield Button(f"{self.yes} (y)", id="yes", compact=True,
                             variant="error" if self.danger else "primary")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def action_switch(self) -> None:
        self.focus_next(Button)

    def action_answer(self, yes: bool) -> None:
        """Close with the answer."""
        self.dismiss(yes)

    @on(Button.Pressed, "#yes")
    def _yes(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#no")
    def _no(self) -> None:
        self.dismiss(False)


def confirm_then(screen: Screen[Any], title: str, text: str, *, yes: str,
                 then: Callable[[], object]) -> None:
    """Ask a destructive question (No focused); call ``then`` only on yes."""

    def answered(answer: bool | None) -> None:
        if answer:
            then()

    screen.app.push_screen(ConfirmDialog(title, text, yes=yes, danger=True), answered)

