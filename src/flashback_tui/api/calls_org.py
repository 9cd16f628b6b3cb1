"""The organisation calls of the client: workspaces, their members, and system events.

One method per endpoint, named after the TypeScript client's method (``addUserToWorkspace``
-> :meth:`OrgCalls.add_user_to_workspace`).
"""

from __future__ import annotations

from collections.abc import Sequence

from flashback_tui.api.models import (
    MemberAdd,
    MemberRoleUpdate,
    SuccessOnly,
    SystemEventPage,
    SystemEventQuery,
    WorkspaceCreate,
    WorkspaceListResponse,
    WorkspaceRefResponse,
    WorkspaceResponse,
    WorkspaceUpdate,
)
from flashback_tui.api.transport import ApiSession, path_id


class OrgCalls(ApiSession):
    """``/workspace``, ``/workspace/{id}/users`` and ``/systemevent``."""

    # -- workspaces -----------------------------------------------------------------------

    async def create_workspace(self, body: WorkspaceCreate) -> WorkspaceRefResponse:
        """``POST /workspace``: a new workspace (org OWNER or ADMINISTRATORS)."""
        return await self._call("POST", "/workspace", WorkspaceRefResponse,
                                json=body.to_wire())

    async def get_workspaces(self) -> WorkspaceListResponse:
        """``GET /workspace``: the workspaces the caller belongs to, with their members."""
        return await self._call("GET", "/workspace", WorkspaceListResponse)

    async def get_workspace(self, workspace_id: str) -> WorkspaceResponse:
        """``GET /workspace/{id}``: one workspace the caller belongs to."""
        return await self._call("GET", self._workspace(workspace_id), WorkspaceResponse)

    async def update_workspace(self, workspace_id: str,
                               body: WorkspaceUpdate) -> WorkspaceRefResponse:
        """``PUT /workspace/{id}``: rename a workspace."""
        return await self._call("PUT", self._workspace(workspace_id), WorkspaceRefResponse,
                                json=body.to_wire())

    async def delete_workspace(self, workspace_id: str) -> SuccessOnly:
        """``DELETE /workspace/{id}``: refused (ForbiddenError) while it holds anything."""
        return await self._call("DELETE", self._workspace(workspace_id), SuccessOnly)

    async def add_user_to_workspace(self, workspace_id: str, body: MemberAdd) -> SuccessOnly:
        """``POST /workspace/{id}/users``: make a user a member with a role."""
        path = f"{self._workspace(workspace_id)}/users"
        return await self._call("POST", path, SuccessOnly, json=body.to_wire())

    async def update_workspace_user_role(self, workspace_id: str, user_id: str,
                                         body: MemberRoleUpdate) -> SuccessOnly:
        """``PUT /workspace/{id}/users/{userId}``: change a member's role."""
        path = f"{self._workspace(workspace_id)}/users/{path_id(user_id)}"
        return await self._call("PUT", path, SuccessOnly, json=body.to_wire())

    async def remove_user_from_workspace(self, workspace_id: str,
                                         user_id: str) -> SuccessOnly:
        """``DELETE /workspace/{id}/users/{userId}``: remove a member."""
        path = f"{self._workspace(workspace_id)}/users/{path_id(user_id)}"
        return await self._call("DELETE", path, SuccessOnly)

    @staticmethod
    def _workspace(workspace_id: str) -> str:
        return f"/workspace/{path_id(workspace_id)}"

    # -- system events --------------------------------------------------------------------

    async def get_system_events(self, body: SystemEventQuery) -> SystemEventPage:
        """``POST /systemevent``: one page of the audit trail (a POST that only reads)."""
        return await self._call("POST", "/systemevent", SystemEventPage,
                                json=body.to_wire())

    async def mark_system_event_as_read(self, event_id: int | Sequence[int]) -> SuccessOnly:
        """``POST /systemevent/read``: mark one event (``{id}``) or several (``{ids}``)."""
        return await self._call("POST", "/systemevent/read", SuccessOnly,
                                json=_event_ids(event_id))

    async def mark_system_event_as_unread(self,
                                          event_id: int | Sequence[int]) -> SuccessOnly:
        """``DELETE /systemevent/read``: the same body, marking as unread."""
        return await self._call("DELETE", "/systemevent/read", SuccessOnly,
                                json=_event_ids(event_id))


def _event_ids(event_id: int | Sequence[int]) -> dict[str, object]:
    """``{id}`` for one event, ``{ids}`` for a list, as the TypeScript client sends them."""
    if isinstance(event_id, int):
        return {"id": event_id}
    return {"ids": [int(i) for i in event_id]}
