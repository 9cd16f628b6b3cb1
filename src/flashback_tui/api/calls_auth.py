"""The sign-in calls of the client (``/user/login``, ``refresh``, ``logout``) and user look-ups.

One method per endpoint, named after the TypeScript client's method (``userLogin`` ->
:meth:`SignInCalls.user_login`, also reachable as ``login``). A sign-in or refresh answered
without tokens is a :class:`~flashback_tui.api.errors.SignInRefusedError`, whether it came as
a 401 or as a 200 with ``success`` false.
"""

from __future__ import annotations

from typing import Any

from pydantic import SecretStr, ValidationError

from flashback_tui.api.errors import BadRequestError, SignInRefusedError, UnauthorizedError
from flashback_tui.api.models import (
    DeviceInfo,
    LoginRequest,
    LoginResponse,
    LogoutResponse,
    ProfileResponse,
    RefreshRequest,
    RefreshResponse,
    UserRolesResponse,
)
from flashback_tui.api.transport import (
    ApiSession,
    JsonBody,
    ResponseT,
    Tokens,
    as_secret,
    path_id,
    shape_problems,
)

LOGIN = "POST /user/login"
REFRESH = "POST /user/refresh"


class SignInCalls(ApiSession):
    """Sign-in, token refresh, sign-out, and the two user look-ups."""

    async def user_login(self, email: str, password: str | SecretStr,
                         device_info: DeviceInfo | None = None) -> LoginResponse:
        """``POST /user/login``: sign in; the client keeps the returned tokens.

        A malformed email is a BadRequestError before anything is sent. An answer without
        ``accessToken`` (refused, or an account still to verify) is a SignInRefusedError
        carrying the platform's ``error_code`` and ``verificationTokenId``.
        """
        try:
            body = LoginRequest(email=email, password=as_secret(password),
                                device_info=device_info)
        except ValidationError as exc:
            raise BadRequestError(shape_problems(exc), request=LOGIN) from None
        wire = body.to_wire()
        if device_info is None:
            wire.pop("deviceInfo", None)
        answer = await self._sign_in_call("/user/login", LoginResponse, wire)
        if answer.access_token is None:
            raise SignInRefusedError(
                answer.message or answer.error_code or "the platform did not sign you in",
                status=200, request=LOGIN, error_code=answer.error_code,
                verification_token_id=answer.verification_token_id)
        self.set_tokens(answer.access_token, answer.refresh_token, answer.expires_at)
        return answer

    login = user_login

    async def user_refresh(self) -> RefreshResponse:
        """``POST /user/refresh``: trade the refresh token for new tokens and keep them.

        ``on_tokens_refreshed`` hears about the new tokens. Raises SignInRefusedError (an
        UnauthorizedError) when there is no refresh token or the platform refuses it, be
        it with a 401 or a 200 saying ``success: false``.
        """
        if self._refresh_token is None:
            raise SignInRefusedError("no refresh token; sign in again", request=REFRESH)
        body = RefreshRequest(refresh_token=self._refresh_token).to_wire()
        answer = await self._sign_in_call("/user/refresh", RefreshResponse, body)
        access = answer.access_token or answer.token
        if not answer.success or access is None:
            raise SignInRefusedError(
                answer.message or answer.error_code or "the session could not be renewed",
                status=200, request=REFRESH, error_code=answer.error_code)
        refresh = answer.refresh_token or self._refresh_token
        self.set_tokens(access, refresh, answer.expires_at)
        await self._report_tokens(Tokens(access, refresh, answer.expires_at or 0))
        return answer

    refresh = user_refresh

    async def user_logout(self) -> LogoutResponse:
        """``POST /user/logout``: revoke the refresh token; the client forgets its tokens.

        The tokens are forgotten even if the request fails. Without a refresh token there
        is nothing to revoke, and only the local tokens are dropped.
        """
        if self._refresh_token is None:
            self.clear_tokens()
            return LogoutResponse(success=True, message="no session to revoke")

        def body() -> dict[str, Any]:
            # Built per try: a refresh on the way rotates the refresh token to revoke.
            token = self._refresh_token or SecretStr("")
            return RefreshRequest(refresh_token=token).to_wire()

        try:
            return await self._call("POST", "/user/logout", LogoutResponse, json=body)
        finally:
            self.clear_tokens()

    logout = user_logout

    async def get_user_profile(self) -> ProfileResponse:
        """``GET /user/profile``: the signed-in user (inside ``data``)."""
        return await self._call("GET", "/user/profile", ProfileResponse)

    async def get_user_by_id(self, user_id: str) -> UserRolesResponse:
        """``GET /user/{userId}``: a user's organisation role (inside ``data``)."""
        return await self._call("GET", f"/user/{path_id(user_id)}", UserRolesResponse)

    async def _sign_in_call(self, path: str, model: type[ResponseT],
                            body: JsonBody) -> ResponseT:
        """A login or refresh call: sent without the bearer; a 401 is SignInRefusedError."""
        try:
            return await self._call("POST", path, model, json=body, authenticated=False)
        except SignInRefusedError:
            raise
        except UnauthorizedError as exc:
            raise SignInRefusedError(exc.message, status=exc.status, request=exc.request,
                                     error_code=exc.error_code) from None


__all__ = ["SignInCalls"]
