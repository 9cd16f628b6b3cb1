"""The typed messages screens post up to the App, and the ones the App broadcasts down.

A screen asks ("open this workspace", "show these details"); the App decides. Workers post
messages too, instead of touching widgets from their coroutine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from flashback_tui.api.models import AiLlm
    from flashback_tui.domain.validation import ValidationOutcome, ValidationSummary


@dataclass
class OpenWorkspace(Message):
    """Open the list of a workspace (``workspace_id`` None means all workspaces)."""

    workspace_id: str | None
    workspace_name: str


#: The earlier name of :class:`OpenWorkspace`.
WorkspaceChosen = OpenWorkspace


@dataclass
class ShowPicker(Message):
    """Go back to the workspace picker."""


@dataclass
class OpenStats(Message):
    """Open the usage dashboard of a workspace (None: every workspace)."""

    workspace_id: str | None
    workspace_name: str


@dataclass
class ShowDetails(Message):
    """Open the detail view of a configuration."""

    llm: AiLlm
    session_status: str = ""
    """Its status from a validation run in this session, when there was one."""


@dataclass
class Reconnect(Message):
    """Open the session again (after a failure)."""


@dataclass
class SessionReady(Message):
    """The App has a signed-in client and the list of workspaces; screens may load data."""


@dataclass
class SessionFailed(Message):
    """Opening the session failed; screens show why."""

    error: BaseException


@dataclass
class ConfigSaved(Message):
    """A configuration was created or changed; it should be validated in the background."""

    ai_llm_id: str
    created: bool


@dataclass
class ValidationResults(Message):
    """A batch of validation answers (many may arrive per frame; they travel together)."""

    outcomes: list[ValidationOutcome] = field(default_factory=list)


@dataclass
class ValidationsFinished(Message):
    """A run of validations ended: its summary, and how many were started."""

    summary: ValidationSummary
    total: int
    cancelled: bool = False


@dataclass
class OpenRepos(Message):
    """Open the repositories of a workspace (None: every workspace)."""

    workspace_id: str | None
    workspace_name: str


@dataclass
class OpenKeys(Message):
    """Open the AI API keys of a repository."""

    repo_id: str
    repo_name: str
    workspace_id: str


@dataclass
class OpenViolations(Message):
    """Open the violation list (``kind`` "alerts": the alert list), already filtered."""

    workspace_id: str | None
    workspace_name: str
    kind: str = "violations"
    blocked_only: bool = False
    policy_id: str | None = None
    repo_id: str | None = None


@dataclass
class OpenPolicies(Message):
    """Open the policies that apply in a workspace."""

    workspace_id: str
    workspace_name: str


@dataclass
class OpenMembers(Message):
    """Open the members of a workspace."""

    workspace_id: str
    workspace_name: str


@dataclass
class OpenEvents(Message):
    """Open the audit trail of a workspace (None: everything the caller may see)."""

    workspace_id: str | None
    workspace_name: str


# -- last-known lists and a platform that comes and goes -------------------------------------
# The App hands a copy of the ones below that do not bubble to each screen: they must not
# come back up to it.


@dataclass
class ConfigsShown(Message):
    """A live list of configurations is on screen: the App keeps it as the last-known list."""

    workspace_id: str | None
    workspace_name: str
    llms: list[AiLlm]
    outcomes: dict[str, ValidationOutcome] = field(default_factory=dict)
    """Verdicts of validations run in this session, by configuration id."""
    available: set[str] | None = None
    """Ids the platform lists as available, when the list had to ask."""


@dataclass
class DropCached(Message, bubble=False):
    """The cached rows on screen belong to another user or platform: take them away."""


@dataclass
class PlatformStopped(Message, bubble=False):
    """The embedded platform's child exited (``code``); the supervisor restarts it."""

    code: int


@dataclass
class PlatformRestarted(Message, bubble=False):
    """The embedded platform serves again: screens reload."""


@dataclass
class PlatformGaveUp(Message, bubble=False):
    """The embedded platform keeps stopping; the supervisor stopped trying."""

    log_path: str


@dataclass
class ConfigsLoaded(Message):
    """A configuration list's load finished: the configurations and, when fetched, the ids
    of the available ones."""

    llms: list[AiLlm]
    available: set[str] | None


@dataclass
class ValidationRunEnded(Message):
    """One validation worker of a configuration list answered everything it was given."""
