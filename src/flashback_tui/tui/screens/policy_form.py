"""PolicyFormScreen: create or edit a policy: name, scope, risk, action and its content.

The content is a multi-line editor (TextArea). ``ctrl+t`` sends it to ``POST /policy/validate``
and shows the score, severity, advice and issues beside the editor; ``ctrl+s`` saves (the scope
of an existing policy cannot change: the platform keeps it); Esc cancels. The dialog answers
the policy's id, or None.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Select, Static, TextArea

from flashback_tui.tui.errors import describe_error
from flashback_tui.tui.screens.base import BaseModal

if TYPE_CHECKING:
    from flashback_tui.api.models import Policy, PolicyValidationResult, Repo
    from flashback_tui.tui.session_state import SessionState

RISKS = ("LOW", "MEDIUM", "HIGH")
ACTIONS = (("log", 0), ("alert", 1), ("block", 2))


def validation_text(result: PolicyValidationResult) -> str:
    """Score, severity, advice and issues in a few lines."""
    lines = [f"Score {result.score:.0f}/100", f"Severity {result.severity}", "", result.advice]
    for issue in result.issues:
        lines += ["", f"• {issue.description}", f"  {issue.suggestion}"]
    return "\n".join(lines)


class PolicyFormScreen(BaseModal[str | None]):
    """A policy's fields, its content editor and the validation beside it."""

    DEFAULT_CSS = """
    PolicyFormScreen #dialog { height: 22; }
    PolicyFormScreen .field-row Select { width: 1fr; }
    PolicyFormScreen #editor-row { height: 1fr; margin: 1 0 0 0; }
    PolicyFormScreen #content { width: 1fr; height: 100%; }
    PolicyFormScreen #advice { width: 28; height: 100%; padding: 0 0 0 1; overflow-y: auto; }
    PolicyFormScreen #policy-error { color: $error; height: auto; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="policy_form.cancel"),
        Binding("ctrl+s", "save", "Save", id="policy_form.save", priority=True),
        Binding("ctrl+t", "validate", "Validate content", id="policy_form.validate",
                priority=True),
    ]

    def __init__(self, state: SessionState, policy: Policy | None, *, org_id: str,
                 workspace_id: str, repos: list[Repo]) -> None:
        super().__init__(state)
        self.policy = policy
        self.org_id = org_id
        self.workspace_id = workspace_id
        self.repos = repos

    def scope_options(self) -> list[tuple[str, str]]:
        """(label, value) of each scope: the org, the workspace, each repository."""
        workspace = self.state.workspace_name(self.workspace_id)
        return [("Whole organisation", "org"), (f"Workspace {workspace}", "workspace"),
                *((f"Repository {r.name}", f"repo:{r.id}") for r in self.repos)]

    def current_scope(self) -> str:
        policy = self.policy
        if policy is None or policy.scope == "workspace":
            return "workspace"
        return f"repo:{policy.repo_id}" if policy.scope == "repo" else "org"

    def compose(self) -> ComposeResult:
        policy = self.policy
        with Vertical(id="dialog", classes="form-dialog"):
            yield Label(f"Edit policy {policy.name}" if policy else "New policy",
                        classes="dialog-title")
            with Horizontal(classes="field-row"):
                yield Label("Name", classes="field-label")
                yield Input(policy.name if policy else "", id="name", compact=True)
            with Horizontal(classes="field-row"):
                yield Label("Scope", classes="field-label")
                yield Select(self.scope_options(), value=self.current_scope(),
                             allow_blank=False, id="scope", compact=True,
                             disabled=policy is not None)
            with Horizontal(classes="field-row"):
                yield Label("Risk", classes="field-label")
                yield Select([(r, r) for r in RISKS], allow_blank=False, compact=True,
                             value=str(policy.risk_type) if policy else "MEDIUM", id="risk")
                yield Label(" Action ", classes="field-label")
                yield Select(ACTIONS, allow_blank=False, compact=True, id="action",
                             value=int(policy.action_type) if policy else 1)
            with Horizontal(id="editor-row"):
                yield TextArea(policy.content if policy else "", id="content",
                               show_line_numbers=False, compact=True)
                yield Static("ctrl+t: score this content, with advice and issues.",
                             id="advice", markup=False)
            yield Static("", id="policy-error", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Validate (ctrl+t)", id="validate", compact=True)
                yield Button("Cancel (Esc)", id="cancel", compact=True)
                yield Button("Save (ctrl+s)", id="save", variant="primary", compact=True)

    def on_mount(self) -> None:
        self.query_one("#name", Input).focus()

    @property
    def content(self) -> str:
        """The editor's text."""
        return self.query_one("#content", TextArea).text

    @on(Button.Pressed, "#validate")
    def action_validate(self) -> None:
        if not self.content.strip():
            self.query_one("#advice", Static).update("Write the policy first.")
            return
        self.query_one("#advice", Static).update("Validating…")
        self.validate_content(self.content)

    @work(group="validate", exclusive=True, exit_on_error=False)
    async def validate_content(self, content: str) -> None:
        """``POST /policy/validate`` with the editor's text; the answer beside the editor."""
        from flashback_tui.api.models import PolicyValidationRequest

        client = self.state.client
        assert client is not None
        body = PolicyValidationRequest.model_validate(
            {"policies": [{"policy_uuid": self.policy.id if self.policy else "draft",
                           "content": content}]})
        answer = await client.validate_policies(body)
        text = validation_text(answer.results[0]) if answer.results else "No answer."
        self.query_one("#advice", Static).update(text)

    def document(self) -> dict[str, Any] | None:
        """The fields as a request body, or None (with the reason shown) when incomplete."""
        name = self.query_one("#name", Input).value.strip()
        error = ("A policy needs a name." if not name else
                 "A policy needs content." if not self.content.strip() else "")
        self.query_one("#policy-error", Static).update(error)
        if error:
            return None
        fields: dict[str, Any] = {"name": name, "content": self.content.strip(),
                                  "riskType": self.query_one("#risk", Select).value,
                                  "actionType": self.query_one("#action", Select).value}
        if self.policy is None:
            scope = str(self.query_one("#scope", Select).value)
            fields["orgId"] = self.org_id
            if scope == "workspace":
                fields["workspaceId"] = self.workspace_id
            elif scope.startswith("repo:"):
                fields["repoId"] = scope.removeprefix("repo:")
        return fields

    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        fields = self.document()
        if fields is not None:
            self.save(fields)

    @work(group="save", exclusive=True, exit_on_error=False)
    async def save(self, fields: dict[str, Any]) -> None:
        """Create or update; close with the policy's id."""
        from flashback_tui.api.models import PolicyCreate, PolicyUpdate

        client = self.state.client
        assert client is not None
        if self.policy is None:
            answer = await client.create_policy(PolicyCreate.model_validate(fields))
        else:
            answer = await client.update_policy(self.policy.id,
                                                PolicyUpdate.model_validate(fields))
        self.dismiss(answer.policy.id)

    def on_worker_failed(self, worker: Any, error: BaseException) -> None:
        report = describe_error(error, self.state.backend_label)
        target = "#advice" if worker.group == "validate" else "#policy-error"
        self.query_one(target, Static).update(f"{report.title}: {report.message}")

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
