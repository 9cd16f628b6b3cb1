"""One exception class per failure kind of a Flashback API call.

UI and CLI code catch these, never ``httpx`` exceptions. Each carries the HTTP status (or
None for transport failures), the server's message, the ``error_code`` of the sign-in and
repository error shapes when the server sent one, and the request as ``METHOD path`` (never
headers or bodies, so never a token or a secret).
"""

from __future__ import annotations


class FlashbackError(Exception):
    """Base class of every client error."""

    #: A one-line hint telling the user what to do about it.
    hint: str = ""

    def __init__(self, message: str, *, status: int | None = None, request: str = "",
                 error_code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.request = request
        #: The platform's ``error_code`` (sign-in and repository errors), if it sent one.
        self.error_code = error_code

    def __str__(self) -> str:
        prefix = f"{self.status} " if self.status else ""
        return f"{prefix}{self.message}"


class BadRequestError(FlashbackError):
    """400: bad parameters or a validation error; ``message`` names the field."""

    hint = "Check the values you entered."


class UnauthorizedError(FlashbackError):
    """401: missing, invalid or expired token."""

    hint = "Sign in again (flashback-tui login) or check FLASHBACK_TOKEN."


class SignInRefusedError(UnauthorizedError):
    """A sign-in or refresh answered without tokens (``success`` false, maybe a 200).

    ``error_code`` says why when the platform told; ``verification_token_id`` is set when the
    account still has to confirm its e-mail address.
    """

    hint = "Check the e-mail address and password, or sign in again."

    def __init__(self, message: str, *, status: int | None = None, request: str = "",
                 error_code: str | None = None,
                 verification_token_id: str | None = None) -> None:
        super().__init__(message, status=status, request=request, error_code=error_code)
        self.verification_token_id = verification_token_id


class RepoRefusedError(BadRequestError):
    """A repository create or update answered ``success`` false with an ``error_code``.

    ``message`` is the platform's ``error_message`` (or the code when it sent none).
    """

    hint = "Check the repository's name and storage settings."


class ForbiddenError(FlashbackError):
    """403: no permission, or the configuration is in use."""

    hint = "Your role in this workspace does not allow this, or the item is in use."


class NotFoundError(FlashbackError):
    """404: unknown id, or in a workspace the caller does not belong to."""

    hint = "It may have been deleted: refresh the list."


class ServerError(FlashbackError):
    """5xx: the platform failed."""

    hint = "The platform had an internal error; try again shortly."


class FlashbackConnectionError(FlashbackError):
    """The backend could not be reached (refused, DNS, TLS, reset)."""

    hint = "Check that the backend is running and the URL is right."


class FlashbackTimeoutError(FlashbackError):
    """The backend did not answer within the timeout."""

    hint = "The backend is slow or unreachable; try again or raise the timeout."


class UnexpectedResponseError(FlashbackError):
    """An answer that does not follow the contract (not JSON, wrong shape, odd status)."""

    hint = "The URL may not point at a Flashback API."


_BY_STATUS: dict[int, type[FlashbackError]] = {
    400: BadRequestError,
    401: UnauthorizedError,
    403: ForbiddenError,
    404: NotFoundError,
}


def error_for_status(status: int, message: str, request: str = "",
                     *, error_code: str | None = None) -> FlashbackError:
    """The exception for an HTTP error status with the server's message (and code)."""
    if status >= 500:
        cls: type[FlashbackError] = ServerError
    else:
        cls = _BY_STATUS.get(status, UnexpectedResponseError)
    return cls(message, status=status, request=request, error_code=error_code)


# ---------------------------------------------------------------------------------------------
# Words a person understands
# ---------------------------------------------------------------------------------------------

#: Validation phrases (as pydantic words them) and the same in plain words.
_PLAIN_PHRASES: tuple[tuple[str, str], ...] = (
    (r"Value error, ", ""),
    (r"String should have at least 1 character\b", "must not be empty"),
    (r"String should have at most (\d+) characters?", r"is too long: at most \1 characters"),
    (r"String should have at least (\d+) characters?", r"is too short: at least \1 characters"),
    (r"List should have at most (\d+) items?(?: after validation)?(?:, not \d+)?",
     r"has too many items: at most \1"),
    (r"Field required", "is required"),
    (r"Input should be a valid string", "must be text"),
    (r"Input should be a valid integer[^;]*", "must be a whole number"),
    (r"Input should be a valid boolean[^;]*", "must be true or false"),
    (r"Input should be a valid (?:dictionary|object)[^;]*", "must be a JSON object"),
    (r"Input should be a valid list", "must be a list"),
    (r"Input should be greater than or equal to (\S+)", r"must be at least \1"),
    (r"Input should be less than or equal to (\S+)", r"must be at most \1"),
    (r"Input should be less than (\S+)", r"must be less than \1"),
    (r"Input should be greater than (\S+)", r"must be more than \1"),
    (r"Input should be ", "must be "),
    (r"Extra inputs are not permitted", "is not accepted here"),
)


def plain_words(message: str) -> str:
    """``message`` with validation jargon in plain words.

    ``name: String should have at most 255 characters`` becomes ``name is too long: at most
    255 characters``. Text that holds no such phrase is returned as it came.
    """
    import re

    text = message
    for pattern, plain in _PLAIN_PHRASES:
        text = re.sub(pattern, plain, text)
    return re.sub(r"([\w.\-]+): (is|must|has) ", r"\1 \2 ", text)


def with_hint(message: str, hint: str) -> str:
    """A message and its hint as sentences: ``Not found. It may have been deleted.``"""
    message, hint = message.strip(), hint.strip()
    if not hint:
        return message
    if message and message[-1] not in ".!?:":
        message += "."
    return f"{message} {hint}".strip()
