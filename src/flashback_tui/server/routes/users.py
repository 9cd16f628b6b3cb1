"""``/user``: sign in with a password, refresh tokens (rotating the refresh token), sign out,
and look up the signed-in user's profile or another user of the same org.

Sign-in failures answer the sign-in error shape ``{success: false, error_code, message}``
with a stable ``error_code``: ``INVALID_CREDENTIALS``, ``TOO_MANY_ATTEMPTS`` (with
``Retry-After``), ``INVALID_REFRESH_TOKEN`` and ``INVALID_TOKEN`` (logout without a live
token). The user look-ups fail with ``{success: false, message, error}``.
"""

from __future__ import annotations

import math

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials

from flashback_tui.api.models import (
    LoginRequest,
    LoginResponse,
    LoginUser,
    LogoutResponse,
    Profile,
    ProfileResponse,
    RefreshRequest,
    RefreshResponse,
    SignInError,
    UserRoles,
    UserRolesResponse,
)
from flashback_tui.api.models.auth import org_role_description
from flashback_tui.server.deps import (
    Settings,
    State,
    User,
    bearer_credentials,
    error_responses,
)
from flashback_tui.server.security import token_digest, verify_password
from flashback_tui.server.sql import Conn
from flashback_tui.server.store import users as user_store
from flashback_tui.server.throttle import LoginThrottle

_SIGN_IN_ERRORS = {**error_responses(400, 500), 401: {"model": SignInError}}
_LOOKUP_ERRORS = error_responses(401, 404, 500)

router = APIRouter(prefix="/user", tags=["Sign-in"])

BAD_LOGIN = "invalid email or password"
BAD_REFRESH = "invalid or expired refresh token"
USER_NOT_FOUND = "user not found"


def sign_in_error(code: str, message: str, *, status: int = 401,
                  headers: dict[str, str] | None = None) -> JSONResponse:
    """A refused sign-in call: ``{success: false, error_code, message}``."""
    body = SignInError(error_code=code, message=message).model_dump(mode="json", by_alias=True)
    return JSONResponse(body, status_code=status, headers=headers)


@router.post("/login", response_model=LoginResponse, responses=_SIGN_IN_ERRORS,
             summary="Sign in with email and password")
def login(body: LoginRequest, request: Request, state: State, settings: Settings
          ) -> LoginResponse | JSONResponse:
    """Issue an access token and a refresh token. Users without a password cannot sign in.

    Repeated failures for one email from one address lock that pair out for a while
    (401 ``TOO_MANY_ATTEMPTS`` saying how long; see :mod:`flashback_tui.server.throttle`).
    """
    throttle: LoginThrottle = request.app.state.login_throttle
    attempt = throttle.key(body.email, request.client.host if request.client else "")
    wait = throttle.wait_seconds(attempt)
    if wait > 0:
        seconds = math.ceil(wait)
        return sign_in_error("TOO_MANY_ATTEMPTS",
                             f"too many failed sign-ins for this email from this address; "
                             f"try again in {seconds} s", headers={"Retry-After": str(seconds)})
    conn = state.db.conn()
    row = user_store.user_by_email(conn, body.email)
    password = body.password.get_secret_value()
    if not verify_password(password, row["password_hash"] if row else None) or row is None:
        throttle.failed(attempt)
        return sign_in_error("INVALID_CREDENTIALS", BAD_LOGIN)
    throttle.succeeded(attempt)
    access = user_store.issue_token(conn, row["id"], "access", settings.access_token_ttl)
    refresh = user_store.issue_token(conn, row["id"], "refresh", settings.refresh_token_ttl)
    return LoginResponse(
        success=True,
        access_token=access.token,
        refresh_token=refresh.token,
        token_id=refresh.token_id,
        expires_at=access.expires_at,
        user=LoginUser(id=row["id"], email=row["email"], name=row["name"] or "",
                       org_id=row["org_id"], org_role=row["org_role"]),
    )


@router.post("/refresh", response_model=RefreshResponse, responses=_SIGN_IN_ERRORS,
             summary="Exchange a refresh token")
def refresh(body: RefreshRequest, state: State, settings: Settings
            ) -> RefreshResponse | JSONResponse:
    """A new access token and a new refresh token; the old refresh token stops working."""
    conn = state.db.conn()
    user_id = user_store.consume_refresh_token(conn, body.refresh_token.get_secret_value())
    if user_id is None:
        return sign_in_error("INVALID_REFRESH_TOKEN", BAD_REFRESH)
    access = user_store.issue_token(conn, user_id, "access", settings.access_token_ttl)
    new_refresh = user_store.issue_token(conn, user_id, "refresh", settings.refresh_token_ttl)
    return RefreshResponse(success=True, token=access.token, access_token=access.token,
                           refresh_token=new_refresh.token, expires_at=access.expires_at)


def _signed_out_user(conn: Conn, refresh_token: str, access_token: str | None
                     ) -> str | None:
    """Whose session a logout ends: the bearer's, else the refresh token's owner."""
    row = user_store.user_for_token(conn, access_token) if access_token else None
    if row is None:
        row = user_store.user_for_token(conn, refresh_token, kind="refresh")
    return row["id"] if row is not None else None


@router.post("/logout", response_model=LogoutResponse, responses=_SIGN_IN_ERRORS,
             summary="Sign out")
def logout(body: RefreshRequest, state: State, credentials: bearer_credentials
           ) -> LogoutResponse | JSONResponse:
    """Revoke the given refresh token and the access token of this request.

    Works with an expired access token as long as the refresh token is live; 401
    ``INVALID_TOKEN`` when neither identifies a user.
    """
    conn = state.db.conn()
    refresh_token = body.refresh_token.get_secret_value()
    access_token = (credentials.credentials
                    if isinstance(credentials, HTTPAuthorizationCredentials) else None)
    user_id = _signed_out_user(conn, refresh_token, access_token)
    if user_id is None:
        return sign_in_error("INVALID_TOKEN", "no live access or refresh token to sign out")
    digests = [token_digest(refresh_token)]
    if access_token:
        digests.append(token_digest(access_token))
    user_store.revoke_tokens(conn, user_id, digests)
    return LogoutResponse(success=True, message="signed out")


def _roles(org_role: int | None) -> list[int]:
    """``orgRoles``: the org roles a user holds. Locally a user holds exactly one."""
    return [org_role] if org_role is not None else []


@router.get("/profile", response_model=ProfileResponse, responses=_LOOKUP_ERRORS,
            summary="The signed-in user's profile")
def profile(user: User, state: State) -> ProfileResponse | JSONResponse:
    """Who the bearer token belongs to, with the org role."""
    row = user_store.user_by_id(state.db.conn(), user.id)
    if row is None:  # deleted between the token check and here
        return _lookup_error()
    return ProfileResponse(success=True, data=Profile(
        id=row["id"], name=row["name"] or "", last_name=row["last_name"] or "",
        email=row["email"], org_id=row["org_id"], org_role=row["org_role"],
        org_role_description=org_role_description(row["org_role"]),
        org_roles=_roles(row["org_role"]), validated=True, mfa_required=False,
        is_business=False))


def _lookup_error() -> JSONResponse:
    body = {"success": False, "message": USER_NOT_FOUND, "error": "NOT_FOUND"}
    return JSONResponse(body, status_code=404)


@router.get("/{user_id}", response_model=UserRolesResponse, responses=_LOOKUP_ERRORS,
            summary="A user's org role")
def user_roles(user_id: str, user: User, state: State) -> UserRolesResponse | JSONResponse:
    """Any member of an org may look up the users of that org; others are 404."""
    row = user_store.user_in_org(state.db.conn(), user_id, user.org_id)
    if row is None:
        return _lookup_error()
    return UserRolesResponse(success=True, data=UserRoles(
        user_id=row["id"], org_role=row["org_role"],
        org_role_description=org_role_description(row["org_role"]),
        org_roles=_roles(row["org_role"])))
