"""Wire models of workspaces and their members (``/workspace``)."""

from __future__ import annotations

from pydantic import Field, field_validator

from flashback_tui.api.models.common import (
    IdString,
    Name,
    Open,
    OrgRole,
    RequestModel,
    Role,
    Rows,
    WireModel,
    parse_enum,
    reject_null,
)


class UserInfo(WireModel):
    """A person as a workspace lists them. ``name``/``lastName`` are ``""`` when unknown."""

    keep_null = frozenset({'org_role'})

    id: str
    name: str = ""
    last_name: str = ""
    email: str
    org_role: Open[OrgRole] | None = None


class WorkspaceUser(WireModel):
    """A membership: who, and with which role."""

    user_id: str
    role: Open[Role]
    user: UserInfo | None = None


class WorkspaceRef(WireModel):
    """A workspace without its members: the answer of create and rename."""

    id: str
    name: str
    org_id: str | None = None


class Workspace(WorkspaceRef):
    """A workspace and its members."""

    users: Rows[WorkspaceUser] = Field(default_factory=list)

    def role_of(self, user_id: str) -> Role | None:
        """The role ``user_id`` holds here (None if none, or a role this version lacks)."""
        role = next((m.role for m in self.users if m.user_id == user_id), None)
        return role if isinstance(role, Role) else None


class WorkspaceListResponse(WireModel):
    """Answer of ``GET /workspace``."""

    success: bool
    workspaces: Rows[Workspace]


class WorkspaceResponse(WireModel):
    """Answer of ``GET /workspace/{id}``."""

    success: bool
    workspace: Workspace


class WorkspaceRefResponse(WireModel):
    """Answer of ``POST /workspace`` and ``PUT /workspace/{id}``."""

    success: bool
    workspace: WorkspaceRef


class WorkspaceCreate(RequestModel):
    """Body of ``POST /workspace``."""

    name: Name


class WorkspaceUpdate(RequestModel):
    """Body of ``PUT /workspace/{id}``: only the name can change."""

    never_null = frozenset({"name"})

    name: Name | None = None

    _no_null = field_validator("name", mode="before")(reject_null)


_parse_role = parse_enum(Role, "role")


class MemberAdd(RequestModel):
    """Body of ``POST /workspace/{id}/users``."""

    user_id: IdString
    role: Role

    _role = field_validator("role", mode="before")(_parse_role)


class MemberRoleUpdate(RequestModel):
    """Body of ``PUT /workspace/{id}/users/{userId}``."""

    role: Role

    _role = field_validator("role", mode="before")(_parse_role)
