"""``/user``: sign in with a password, refresh tokens (rotating the refresh token), sign out."""

from __future__ import annotations

import math

from fastapi import APIRouter, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials

from flashback_tui.api.models import (
    LoginRequest,
    LoginResponse,
    LoginUser,
    RefreshRequest,
    RefreshResponse,
    SuccessResponse,
)
from flashback_tui.server.deps import (
    Settings,
    State,
    User,
    bearer_credentials,
    error_responses,
)
from flashback_tui.server.security import token_digest, verify_password
from flashback_tui.server.store import users as user_store
from flashback_tui.server.throttle import LoginThrottle

_ERRORS = error_responses(400, 401, 500)

router = APIRouter(prefix="/user", tags=["Sign-in"], responses=_ERRORS)

BAD_LOGIN = "invalid email or password"


@router.post("/login", response_model=LoginResponse, summary="Sign in with email and password")
def login(body: LoginRequest, request: Request, state: State, settings: Settings
          ) -> LoginResponse:
    """Issue an access token and a refresh token. Users without a password cannot sign in.

    Repeated failures for one email from one address lock that pair out for a while
    (401 saying how long; see :mod:`flashback_tui.server.throttle`).
    """
    throttle: LoginThrottle = request.app.state.login_throttle
    attempt = throttle.key(body.email, request.client.host if request.client else "")
    wait = throttle.wait_seconds(attempt)
    if wait > 0:
        seconds = math.ceil(wait)
        raise HTTPException(401, f"too many failed sign-ins for this email from this address; "
                                 f"try again in {seconds} s", headers={"Retry-After": str(seconds)})
    conn = state.db.conn()
    row = user_store.user_by_email(conn, body.email)
    password = body.password.get_secret_value()
    if not verify_password(password, row["password_hash"] if row else None) or row is None:
        throttle.failed(attempt)
        raise HTTPException(401, BAD_LOGIN)
    throttle.succeeded(attempt)
    access = user_store.issue_token(conn, row["id"], "access", settings.access_token_ttl)
    refresh = user_store.issue_token(conn, row["id"], "refresh", settings.refresh_token_ttl)
    return LoginResponse(
        success=True,
        access_token=access.token,
        refresh_token=refresh.token,
        expires_at=access.expires_at,
        user=LoginUser(id=row["id"], email=row["email"], name=row["name"], org_id=row["org_id"],
                       org_role=row["org_role"]),
    )


@router.post("/refresh", response_model=RefreshResponse, summary="Exchange a refresh token")
def refresh(body: RefreshRequest, state: State, settings: Settings) -> RefreshResponse:
    """A new access token and a new refresh token; the old refresh token stops working."""
    conn = state.db.conn()
    user_id = user_store.consume_refresh_token(conn, body.refresh_token.get_secret_value())
    if user_id is None:
        raise HTTPException(401, "invalid or expired refresh token")
    access = user_store.issue_token(conn, user_id, "access", settings.access_token_ttl)
    new_refresh = user_store.issue_token(conn, user_id, "refresh", settings.refresh_token_ttl)
    return RefreshResponse(success=True, token=access.token, access_token=access.token,
                           refresh_token=new_refresh.token, expires_at=access.expires_at)


@router.post("/logout", response_model=SuccessResponse, summary="Sign out")
def logout(body: RefreshRequest, user: User, state: State,
           credentials: bearer_credentials) -> SuccessResponse:
    """Revoke the given refresh token and the access token of this request."""
    conn = state.db.conn()
    digests = [token_digest(body.refresh_token.get_secret_value())]
    if isinstance(credentials, HTTPAuthorizationCredentials):
        digests.append(token_digest(credentials.credentials))
    user_store.revoke_tokens(conn, user.id, digests)
    return SuccessResponse(success=True, message="signed out")
