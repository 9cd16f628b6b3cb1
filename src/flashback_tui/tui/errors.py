"""Turn any failure into a short, readable message that says what to do. One home for it."""

from __future__ import annotations

from dataclasses import dataclass

from flashback_tui.api.errors import (
    FlashbackConnectionError,
    FlashbackError,
    FlashbackTimeoutError,
    ForbiddenError,
    NotFoundError,
    UnauthorizedError,
)


@dataclass(frozen=True)
class ErrorReport:
    """What to show: a title, a one-line explanation and a hint saying what to do."""

    title: str
    message: str
    hint: str = ""

    @property
    def text(self) -> str:
        """Message and hint on two lines."""
        return f"{self.message}\n{self.hint}" if self.hint else self.message


def describe_error(error: BaseException, backend: str = "the backend") -> ErrorReport:
    """A readable report for ``error``; never a traceback, never a secret."""
    if isinstance(error, FlashbackConnectionError):
        return ErrorReport("Backend unreachable", f"Cannot reach {backend}.", error.hint)
    if isinstance(error, FlashbackTimeoutError):
        return ErrorReport("Backend timed out", f"{backend} did not answer in time.", error.hint)
    if isinstance(error, UnauthorizedError):
        return ErrorReport("Not signed in", error.message or "The token was refused.", error.hint)
    if isinstance(error, ForbiddenError):
        return ErrorReport("Not allowed", error.message or "Permission denied.", error.hint)
    if isinstance(error, NotFoundError):
        return ErrorReport("Not found", error.message or "It no longer exists.", error.hint)
    if isinstance(error, FlashbackError):
        title = "Server error" if (error.status or 0) >= 500 else "Request failed"
        return ErrorReport(title, error.message or str(error), error.hint)
    if isinstance(error, OSError) and error.filename:
        return ErrorReport("File system error", f"{error.strerror}: {error.filename}",
                           "Check the path and its permissions (--data-dir, "
                           "FLASHBACK_DATA_DIR, FLASHBACK_CONFIG_DIR).")
    hint = getattr(error, "hint", "") or ""
    message = str(error) or type(error).__name__
    kind = type(error).__name__
    if kind in {"NoCredentialError", "SettingsError", "UnknownProfileError"}:
        return ErrorReport("Cannot sign in", message, hint)
    if kind == "LocalServerError":
        return ErrorReport("Local platform did not start", message,
                           "Fix what it names (the data directory, --data-dir, or a "
                           "FLASHBACK_* variable), then press r.")
    return ErrorReport("Unexpected error", f"{type(error).__name__}: {message}", hint)
