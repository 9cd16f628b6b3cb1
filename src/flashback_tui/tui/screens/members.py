"""MemberListScreen: the members of a workspace with their roles, for its ADMINs to manage.

``n`` adds a member by e-mail (found among the members of the workspaces you can see) or by
user id, with a role; ``e`` changes a role; ``d`` removes a member after a confirmation. Writes
are for the workspace's ADMINs and the organisation's administrators; others see them hidden,
and a refusal from the platform (the last ADMIN cannot be removed) is shown with its reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from textual import work
from textual.binding import Binding, BindingType
from textual.message import Message

from flashback_tui.api.models import OrgRole, Role
from flashback_tui.tui.screens.list_screen import ListScreen
from flashback_tui.tui.session_state import READ_ONLY_REASON
from flashback_tui.tui.widgets.fast_table import TableColumn, TableRow

if TYPE_CHECKING:
    from flashback_tui.api.models import Workspace, WorkspaceUser
    from flashback_tui.tui.session_state import SessionState

NOT_ADMIN_REASON = ("Only the workspace's ADMINs and the organisation's administrators manage"
                    " its members.")
ROLE_STYLES = {"ADMIN": "pending", "WRITE": None, "READ": "dim"}
MEMBER_COLUMNS = (
    TableColumn("E-mail", min_width=16, priority=0, max_width=36, flex=2),
    TableColumn("Name", min_width=8, priority=2, max_width=24, flex=1),
    TableColumn("Role", min_width=5, priority=0, max_width=5),
    TableColumn("User id", min_width=8, priority=3, max_width=36, flex=1),
)


def member_row(member: WorkspaceUser) -> TableRow:
    """One member as a row."""
    user = member.user
    email = user.email if user else ""
    name = " ".join(x for x in (user.name, user.last_name) if x) if user else ""
    role = str(member.role)
    return TableRow(member.user_id, (email, name, role, member.user_id),
                    (email.lower(), name.lower(), role, member.user_id),
                    (None, None, ROLE_STYLES.get(role), "dim"),
                    f"{email}\n{name}\n{member.user_id}".lower(), member)


@dataclass
class MembersLoaded(Message):
    """The workspace with its members, and whether the caller administers the org."""

    workspace: Workspace
    org_admin: bool


class MemberListScreen(ListScreen):
    """The members of one workspace."""

    ID_PREFIX = "members"
    WRITE_ACTIONS: ClassVar[frozenset[str]] = frozenset({"new", "edit", "delete"})
    FILTER_PLACEHOLDER = "Filter by e-mail, name or id (Enter: go to list, Esc: clear)"
    KEY_ORDER: ClassVar[tuple[str, ...]] = ("new", "edit", "delete", "filter", "refresh",
                                            "escape")

    BINDINGS: ClassVar[list[BindingType]] = [
        *ListScreen.list_bindings("members"),
        Binding("n", "new", "Add", id="members.add"),
        Binding("e", "edit", "Change role", id="members.role"),
        Binding("d", "delete", "Remove", id="members.remove"),
    ]

    def __init__(self, state: SessionState, workspace_id: str, workspace_name: str) -> None:
        super().__init__(state, workspace_id, workspace_name)
        self.org_admin = False
        self._members: dict[str, WorkspaceUser] = {}

    def columns(self) -> Sequence[TableColumn]:
        return MEMBER_COLUMNS

    def on_mount(self) -> None:
        super().on_mount()
        if self.state.client is not None:
            self.load()
        self.show_state()

    @work(group="load", exclusive=True, exit_on_error=False)
    async def load(self) -> None:
        """Fetch the workspace's members and the caller's organisation role."""
        client = self.state.client
        if client is None:
            return
        assert self.workspace_id is not None
        workspace = (await client.get_workspace(self.workspace_id)).workspace
        profile = (await client.get_user_profile()).data
        org_role = profile.org_role if profile is not None else None
        self.post_message(MembersLoaded(workspace, org_role in (OrgRole.ADMINISTRATORS,
                                                                OrgRole.OWNER)))

    def on_members_loaded(self, message: MembersLoaded) -> None:
        self.org_admin = message.org_admin
        self._members = {m.user_id: m for m in message.workspace.users}
        self.show_rows(member_row(m) for m in message.workspace.users)
        self.refresh_bindings()

    @property
    def selected(self) -> WorkspaceUser | None:
        """The member under the cursor."""
        key = self.table.cursor_key
        return self._members.get(key) if key else None

    def write_refusal(self, action: str) -> str:
        if self.state.read_only:
            return READ_ONLY_REASON
        if self.org_admin or self.state.role_in(self.workspace_id) in (Role.ADMIN, None):
            return ""
        return NOT_ADMIN_REASON

    def empty_text(self) -> str:
        return "No members."

    def detail_text(self, key: str | None) -> str:
        admins = sum(1 for m in self._members.values() if str(m.role) == "ADMIN")
        parts = [f"{len(self._members)} members, {admins} ADMIN{'s' if admins != 1 else ''}"]
        refusal = self.write_refusal("new")
        if refusal and self.loaded:
            parts.append(refusal)
        return " · ".join(parts)

    def action_escape(self) -> None:
        if not self.clear_filter():
            self.dismiss()

    # -- writes -------------------------------------------------------------------------------

    def action_new(self) -> None:
        from flashback_tui.tui.screens.member_dialog import MemberDialog

        def chosen(answer: tuple[str, str] | None) -> None:
            if answer is not None:
                self._add(*answer)

        self.app.push_screen(MemberDialog(f"Add a member to {self.workspace_name}"), chosen)

    @work(group="write", exit_on_error=False)
    async def _add(self, who: str, role: str) -> None:
        from flashback_tui.api.models import MemberAdd

        client = self.state.client
        assert client is not None and self.workspace_id is not None
        user_id = await self.find_user(who)
        await client.add_user_to_workspace(
            self.workspace_id, MemberAdd.model_validate({"userId": user_id, "role": role}))
        self.notify(f"Added {who} as {role}.")
        self.load()

    async def find_user(self, who: str) -> str:
        """A user id: an e-mail found among the members of the workspaces you can see, else
        the text itself (a user id)."""
        client = self.state.client
        assert client is not None
        if "@" not in who:
            return who
        for workspace in (await client.get_workspaces()).workspaces:
            for member in workspace.users:
                if member.user and member.user.email.casefold() == who.casefold():
                    return member.user_id
        raise LookupError(f"No user with the e-mail {who} in the workspaces you can see; "
                          "give their user id instead.")

    def action_edit(self) -> None:
        from flashback_tui.tui.screens.member_dialog import MemberDialog

        member = self.selected
        if member is None:
            return
        label = member.user.email if member.user else member.user_id

        def chosen(answer: tuple[str, str] | None) -> None:
            if answer is not None and answer[1] != str(member.role):
                self._change_role(member, label, answer[1])

        self.app.push_screen(MemberDialog(f"Role of {label}", who=label,
                                          role=str(member.role)), chosen)

    @work(group="write", exit_on_error=False)
    async def _change_role(self, member: WorkspaceUser, label: str, role: str) -> None:
        from flashback_tui.api.models import MemberRoleUpdate

        client = self.state.client
        assert client is not None and self.workspace_id is not None
        await client.update_workspace_user_role(
            self.workspace_id, member.user_id, MemberRoleUpdate.model_validate({"role": role}))
        self.notify(f"{label} is now {role}.")
        self.load()

    def action_delete(self) -> None:
        from flashback_tui.tui.screens.confirm import confirm_then

        member = self.selected
        if member is None:
            return
        label = member.user.email if member.user else member.user_id

        text = (f"Remove {label} ({member.role}) from {self.workspace_name}?\nThey lose access"
                " to its configurations, repositories and keys at once.")
        confirm_then(self, "Remove member", text, yes="Remove",
                     then=lambda: self._remove(member, label))

    @work(group="write", exit_on_error=False)
    async def _remove(self, member: WorkspaceUser, label: str) -> None:
        client = self.state.client
        assert client is not None and self.workspace_id is not None
        await client.remove_user_from_workspace(self.workspace_id, member.user_id)
        self.notify(f"Removed {label}.")
        self.load()

    def on_worker_failed(self, worker: Any, error: BaseException) -> None:
        if isinstance(error, LookupError):
            self.notify(str(error), title="Member not added", severity="error", timeout=8)
            return
        if worker.group == "write":
            self.show_error(error, title="Refused by the platform")
            self.load()
            return
        super().on_worker_failed(worker, error)
