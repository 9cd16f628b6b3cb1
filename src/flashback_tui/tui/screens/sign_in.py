"""SignInScreen: sign in to a remote profile from inside the app, with the CLI's choices.

Shown when the profile has no working credential. It asks for the e-mail and the password
(never echoed) and signs in through ``POST /user/login``. The token then goes where
``flashback-tui login`` would put it: the OS keyring when one is usable; otherwise the user
chooses between memory for this session only (the default) and a plaintext 0600 file.
Every keyring and disk access runs off the event loop.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Checkbox, Input, Label, Static
from textual.worker import Worker

from flashback_tui.credentials import ResolvedCredential
from flashback_tui.tui.errors import describe_error
from flashback_tui.tui.screens.base import BaseModal

if TYPE_CHECKING:
    from flashback_tui.settings import Profile

#: Credential sources whose refusal a fresh sign-in can fix.
_STORED_SOURCES = ("keyring", "file", "memory")


@dataclass(frozen=True)
class StorageOutlook:
    """Where a new token would go: the keyring's description, or why there is none."""

    keyring_where: str | None
    reason: str
    file_path: str


def storage_outlook(profile: Profile) -> StorageOutlook:
    """Ask the keyring (blocking, under its timeout): call it in a thread."""
    from flashback_tui.credentials import CredentialError, FileStore, KeyringStore

    store = KeyringStore(allow_terminal_prompt=False)
    path = str(FileStore().path(profile))
    try:
        store.backend()
    except CredentialError as exc:
        return StorageOutlook(None, str(exc), path)
    return StorageOutlook(store.where(profile), "", path)


def concise_reason(reason: str) -> str:
    """Why a sign-in is needed, without what this screen already shows or is the fix for.

    For a missing credential that is the notes of the chain, minus the keyring's state (the
    storage line below says it); other reasons (a refused token) are kept as they are.
    """
    from flashback_tui.credentials import NoCredentialError

    lines = reason.splitlines()
    if not lines or not lines[0].startswith(NoCredentialError.HEADLINE_PREFIX):
        return reason
    notes = [line.strip().removeprefix("- ") for line in lines[1:]
             if line.startswith("  - ") and "keyring" not in line]
    return " ".join(notes) or "No credential is stored for this profile yet."


def wrong_sign_in_text(server_message: str) -> str:
    """What the screen says when the platform refuses a sign-in: its own words when they say
    more than "wrong password" (a lockout says how long to wait), else a plain sentence."""
    if "try again" in server_message.lower():
        return server_message[:1].upper() + server_message[1:].rstrip(".") + "."
    return "Wrong e-mail or password."


def wants_sign_in(profile: Profile, error: BaseException, credential_source: str | None) -> bool:
    """True when signing in again can fix ``error`` for this profile."""
    from flashback_tui.api.errors import UnauthorizedError
    from flashback_tui.credentials import NoCredentialError

    if profile.is_local:
        return False
    if isinstance(error, NoCredentialError):
        return True
    return isinstance(error, UnauthorizedError) and bool(
        credential_source and credential_source.startswith(_STORED_SOURCES)
    )


class SignInScreen(BaseModal[ResolvedCredential | None]):
    """E-mail and password for a remote profile; dismisses with the kept credential."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="sign_in.cancel"),
    ]

    DEFAULT_CSS = """
    SignInScreen #sign-in-fields { height: auto; }
    SignInScreen #sign-in-fields Input { margin: 0 0 1 0; }
    SignInScreen #sign-in-insecure { margin: 0 0 1 0; }
    """

    def __init__(self, profile: Profile, reason: str = "") -> None:
        super().__init__()
        self.profile = profile
        self.reason = reason
        self.outlook: StorageOutlook | None = None

    def compose(self) -> ComposeResult:
        profile = self.profile
        with Vertical(id="dialog", classes="form-dialog small"):
            yield Label(f"Sign in to {profile.display_url}", classes="dialog-title")
            yield Static(f"Profile {profile.name}. {concise_reason(self.reason)}".strip(),
                         id="sign-in-reason", classes="dialog-text")
            with Vertical(id="sign-in-fields"):
                yield Input(value=profile.email or "", placeholder="E-mail",
                            id="sign-in-email", compact=True)
                yield Input(placeholder="Password", password=True, id="sign-in-password",
                            compact=True)
            yield Static("Checking where the token can be kept…", id="sign-in-storage",
                         classes="dialog-text")
            yield Checkbox("Keep it in a plaintext file (mode 0600)",
                           value=profile.insecure_storage, id="sign-in-insecure", compact=True)
            yield Static("", id="sign-in-error", classes="field-error")
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="sign-in-cancel", compact=True)
                yield Button("Sign in", variant="primary", id="sign-in-submit", compact=True)

    def on_mount(self) -> None:
        self.query_one("#sign-in-insecure").display = False
        self.query_one("#sign-in-error").display = False
        field = "#sign-in-password" if self.profile.email else "#sign-in-email"
        self.query_one(field, Input).focus()
        self._check_storage()

    @work(group="sign-in-storage", exclusive=True, exit_on_error=False)
    async def _check_storage(self) -> None:
        outlook = await asyncio.to_thread(storage_outlook, self.profile)
        self.outlook = outlook
        storage = self.query_one("#sign-in-storage", Static)
        if outlook.keyring_where:
            storage.update(f"The token will be kept in the {outlook.keyring_where}.")
            return
        reason = outlook.reason[:1].upper() + outlook.reason[1:]
        storage.update(
            f"{reason}: the token stays in memory for this session, unless you tick the box "
            f"to keep it in {outlook.file_path} (PLAINTEXT, readable by anyone with access to "
            "this account)."
        )
        self.query_one("#sign-in-insecure").display = True

    @on(Input.Submitted, "#sign-in-email")
    def _email_entered(self) -> None:
        self.query_one("#sign-in-password", Input).focus()

    @on(Input.Submitted, "#sign-in-password")
    @on(Button.Pressed, "#sign-in-submit")
    def _submitted(self) -> None:
        email = self.query_one("#sign-in-email", Input).value.strip()
        password = self.query_one("#sign-in-password", Input).value
        if not email or not password:
            self._show_error("Enter the e-mail and the password.")
            return
        self.query_one("#sign-in-submit", Button).disabled = True
        self._show_error("")
        self._sign_in(email, password)

    @on(Button.Pressed, "#sign-in-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)

    @work(group="sign-in", exclusive=True, exit_on_error=False)
    async def _sign_in(self, email: str, password: str) -> None:
        from pydantic import SecretStr

        from flashback_tui.connect import sign_in
        from flashback_tui.credentials import KeyringStore, keep_credential

        assert self.profile.url is not None
        credential = await sign_in(self.profile.url, email, SecretStr(password))
        self.query_one("#sign-in-password", Input).value = ""
        insecure = self.query_one("#sign-in-insecure", Checkbox).value and (
            self.outlook is not None and self.outlook.keyring_where is None
        )
        resolved, notes = await asyncio.to_thread(
            keep_credential, self.profile, credential, insecure_storage=insecure,
            keyring_store=KeyringStore(allow_terminal_prompt=False),
        )
        updated = self.profile.model_copy(update={
            "email": credential.email or email,
            "insecure_storage": insecure or self.profile.insecure_storage,
        })
        problem = await asyncio.to_thread(_save_profile, updated)
        if problem:
            self.app.notify(problem, title="Profile not saved", severity="warning")
        detail = f" ({'; '.join(notes)})" if notes and resolved.store is None else ""
        self.app.notify(f"Signed in as {updated.email}. Token kept in: {resolved.where}"
                        f"{detail}.", title="Signed in")
        self.profile = updated
        self.dismiss(resolved)

    def on_worker_failed(self, worker: Worker[Any], error: BaseException) -> None:
        from pydantic import ValidationError

        from flashback_tui.api.errors import BadRequestError, UnauthorizedError

        self.query_one("#sign-in-submit", Button).disabled = False
        if worker.group == "sign-in-storage":
            self.query_one("#sign-in-storage", Static).update(
                "Could not check the keyring; the token will stay in memory for this session.")
            return
        if isinstance(error, UnauthorizedError):
            message = wrong_sign_in_text(error.message)
        elif isinstance(error, ValidationError | BadRequestError):
            message = "Enter a valid e-mail address."
        else:
            report = describe_error(error, self.profile.display_url)
            message = f"{report.message} {report.hint}".strip()
        self._show_error(message)
        self.query_one("#sign-in-password", Input).focus()

    def _show_error(self, message: str) -> None:
        box = self.query_one("#sign-in-error", Static)
        box.update(message)
        box.display = bool(message)


def _save_profile(profile: Profile) -> str:
    """Remember the e-mail (and the file consent) for next time; a problem as text."""
    from flashback_tui.settings import SettingsError, save_profile

    try:
        save_profile(profile)
    except SettingsError as exc:
        return str(exc)
    return ""
