"""Wire models of sign-in (``/user/login``, ``refresh``, ``logout``) and user look-ups."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from flashback_tui.api.models.common import (
    Open,
    OrgRole,
    RequestModel,
    Rows,
    WireModel,
    WireSecret,
)

Short = Annotated[str, StringConstraints(max_length=512)]

#: How the profile describes each org role (``orgRoleDescription``).
ORG_ROLE_DESCRIPTIONS: dict[int, str] = {
    OrgRole.USER: "User",
    OrgRole.BILLING: "Billing",
    OrgRole.WORKSPACES: "Workspaces",
    OrgRole.ADMINISTRATORS: "Administrators",
    OrgRole.OWNER: "Owner",
}


def org_role_description(value: int | None) -> str:
    """``Owner`` for 255, ``User`` for 0, ...; ``""`` for None or a role this version lacks."""
    return ORG_ROLE_DESCRIPTIONS.get(value, "") if value is not None else ""


class DeviceInfo(RequestModel):
    """The optional ``deviceInfo`` of a login (kept for the audit trail, not required)."""

    user_agent: Short
    os: Short
    browser: Short
    device_type: Literal["DESKTOP", "MOBILE", "TABLET"]
    ip_address: Short | None = None
    screen_resolution: Short | None = None
    timezone: Short | None = None
    language: Short | None = None
    platform: Short | None = None
    hardware_concurrency: int | None = None
    device_memory: float | None = None


class LoginRequest(RequestModel):
    """Body of ``POST /user/login``."""

    email: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=320)]
    password: WireSecret
    device_info: DeviceInfo | None = None


class LoginUser(WireModel):
    """The signed-in user."""

    id: str
    email: str
    name: str = ""
    org_id: str | None = None
    org_role: Open[OrgRole] | None = None


class LoginResponse(WireModel):
    """Answer of ``POST /user/login``: every field but ``success`` is optional.

    An answer without ``accessToken`` means not signed in (``error_code``/``message`` say
    why). ``expiresAt`` is Unix time in milliseconds.
    """

    success: bool
    access_token: WireSecret | None = None
    refresh_token: WireSecret | None = None
    token_id: str | None = None
    expires_at: int | None = None
    user: LoginUser | None = None
    error_code: str | None = Field(default=None, alias="error_code")
    message: str | None = None
    verification_token_id: str | None = None


class RefreshRequest(RequestModel):
    """Body of ``POST /user/refresh`` and ``POST /user/logout`` (snake_case on the wire)."""

    refresh_token: WireSecret = Field(alias="refresh_token")


class RefreshResponse(WireModel):
    """Answer of ``POST /user/refresh``; ``token`` repeats ``accessToken``.

    A refused refresh may come as a 200 with ``success: false`` and no tokens.
    """

    success: bool
    token: WireSecret | None = None
    access_token: WireSecret | None = None
    refresh_token: WireSecret | None = None
    expires_at: int | None = None
    error_code: str | None = Field(default=None, alias="error_code")
    message: str | None = None


class LogoutResponse(WireModel):
    """Answer of ``POST /user/logout``."""

    success: bool
    error_code: str | None = Field(default=None, alias="error_code")
    message: str | None = None


class Profile(WireModel):
    """The signed-in user's profile (``data`` of ``GET /user/profile``)."""

    keep_null = frozenset({'org_id', 'org_role'})

    id: str
    name: str = ""
    last_name: str = ""
    email: str
    org_id: str | None = None
    org_role: Open[OrgRole] | None = None
    org_role_description: str = ""
    org_roles: Rows[Open[OrgRole]] = Field(default_factory=list)
    validated: bool = True
    mfa_required: bool = False
    is_business: bool = False


class ProfileResponse(WireModel):
    """Answer of ``GET /user/profile``."""

    success: bool
    data: Profile | None = None
    message: str | None = None
    error: str | None = None


class UserRoles(WireModel):
    """``data`` of ``GET /user/{userId}``: a user's organisation role."""

    user_id: str
    org_role: Open[OrgRole]
    org_role_description: str = ""
    org_roles: Rows[Open[OrgRole]] = Field(default_factory=list)


class UserRolesResponse(WireModel):
    """Answer of ``GET /user/{userId}``."""

    success: bool
    data: UserRoles | None = None
    message: str | None = None
    error: str | None = None
