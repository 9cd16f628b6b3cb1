"""SessionState: what screens need to know about the session, handed to them when created.

The App owns one and fills it in as the session opens (client, workspaces, who the caller
is); screens read it and never reach into the App. Role checks live here, so every screen
asks the same question the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flashback_tui.api.client import FlashbackClient
    from flashback_tui.api.models import Role, Workspace
    from flashback_tui.settings import Profile

#: Why a write is refused, by the reason's cause.
READ_ONLY_REASON = "Read-only mode (--read-only): changes are turned off."
READ_ROLE_REASON = "Your role in this workspace is READ: you may look and validate, not change."


@dataclass
class SessionState:
    """The session as screens see it. ``client`` is None until the session is open."""

    read_only: bool = False
    backend_label: str = "local (embedded)"
    profile: Profile | None = None
    client: FlashbackClient | None = None
    workspaces: list[Workspace] = field(default_factory=list)
    user_id: str | None = None
    session_error: BaseException | None = None
    opening: bool = False
    """True while the session is being opened."""
    local: bool = False
    """True on the embedded platform."""
    credential: str = ""
    """Where the token lives, in a few words ("keyring"); "" on the embedded platform."""
    platform_trouble: str = ""
    """What is wrong with the embedded platform in words ("" while it serves)."""
    platform_gave_up: bool = False
    """True once the embedded platform kept stopping and is no longer restarted."""

    @property
    def connecting(self) -> bool:
        """True until the session is open (or has failed)."""
        return self.opening and self.client is None and self.session_error is None

    @property
    def refresh_interval(self) -> float:
        """Seconds between automatic refreshes (the profile's, else 2 s)."""
        return self.profile.refresh_interval if self.profile is not None else 2.0

    @property
    def validation_concurrency(self) -> int:
        """How many validations run at once."""
        return self.profile.validation_concurrency if self.profile is not None else 8

    def workspace(self, workspace_id: str | None) -> Workspace | None:
        """A workspace by id, from the last fetch."""
        return next((w for w in self.workspaces if w.id == workspace_id), None)

    def workspace_name(self, workspace_id: str | None) -> str:
        """A workspace's name, or its id when it is not among the caller's."""
        found = self.workspace(workspace_id)
        return found.name if found is not None else (workspace_id or "")

    def role_in(self, workspace_id: str | None) -> Role | None:
        """The caller's role in a workspace, or None when unknown."""
        workspace = self.workspace(workspace_id)
        if workspace is None or self.user_id is None:
            return None
        return workspace.role_of(self.user_id)

    def role_label(self, workspace_id: str | None) -> str:
        """The caller's role as the platform sent it ("" when unknown)."""
        workspace = self.workspace(workspace_id)
        if workspace is None or self.user_id is None:
            return ""
        role = next((m.role for m in workspace.users if m.user_id == self.user_id), None)
        return "" if role is None else str(role)

    def can_write(self, workspace_id: str | None) -> bool:
        """False in read-only mode or with a READ role; True when the role is unknown."""
        return not self.write_refusal(workspace_id)

    def write_refusal(self, workspace_id: str | None) -> str:
        """Why a write in this workspace is refused ("" when it is allowed)."""
        if self.read_only:
            return READ_ONLY_REASON
        if workspace_id is None:
            allowed = any(self._role_allows(w.id) for w in self.workspaces) or not self.workspaces
            return "" if allowed else READ_ROLE_REASON
        return "" if self._role_allows(workspace_id) else READ_ROLE_REASON

    def _role_allows(self, workspace_id: str) -> bool:
        role = self.role_in(workspace_id)
        return role is None or role.can_write

    def writable_workspaces(self) -> list[Workspace]:
        """Workspaces where the caller may create configurations."""
        if self.read_only:
            return []
        return [w for w in self.workspaces if self._role_allows(w.id)]
