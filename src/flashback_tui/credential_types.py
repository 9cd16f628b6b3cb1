"""The credential of a profile and its errors, shared by the stores and the chain.

A stored credential is a small JSON document: access token, refresh token, expiry (Unix
ms), e-mail and the URL it belongs to. A credential is only ever sent to that URL. Tokens
are ``SecretStr`` everywhere except inside the store's own write.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, TypeVar

from pydantic import SecretStr

if TYPE_CHECKING:

    from flashback_tui.settings import Profile

TOKEN_ENV = "FLASHBACK_TOKEN"
TIMEOUT_ENV = "FLASHBACK_KEYRING_TIMEOUT"
KEYRING_SERVICE = "flashback-tui"
DEFAULT_KEYRING_TIMEOUT = 5.0
CREDENTIALS_DIR_NAME = "credentials"

ENV_SOURCE = "environment (FLASHBACK_TOKEN)"
EMBEDDED_SOURCE = "embedded local admin"
MEMORY_SOURCE = "memory (this session only)"
PLAINTEXT_WARNING = "PLAINTEXT — readable by anyone with access to this account"

T = TypeVar("T")


def brief_source(where: str) -> str:
    """A few words for a header: ``keyring``, ``plaintext file``, ``FLASHBACK_TOKEN``, ..."""
    if where.startswith("file "):
        return "plaintext file"
    if where.startswith("keyring"):
        return "keyring"
    return {ENV_SOURCE: TOKEN_ENV, MEMORY_SOURCE: "memory only",
            EMBEDDED_SOURCE: "local admin"}.get(where, where)


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------


class CredentialError(Exception):
    """A credential could not be read, stored or removed."""


class KeyringUnavailable(CredentialError):
    """No usable keyring here, or it failed or did not answer in time (the message says)."""


class InsecureFileError(CredentialError):
    """A credentials file or directory that others could read; it is refused, not used."""


class NoSafeStorageError(CredentialError):
    """Nowhere to keep a token without the user's consent to a plaintext file."""

    def __init__(self, notes: list[str]) -> None:
        self.notes = notes
        super().__init__("; ".join(notes) or "no usable OS keyring")


class NoCredentialError(CredentialError):
    """A remote profile has no usable credential; the message says how to sign in."""

    #: How the message's first line begins (the reasons follow as ``  - `` lines).
    HEADLINE_PREFIX = "Not signed in to "

    def __init__(self, profile: Profile, notes: list[str] | None = None) -> None:
        self.profile = profile
        self.notes = list(notes or [])
        lines = [f"{self.HEADLINE_PREFIX}{profile.display_url} (profile {profile.name!r})."]
        lines += [f"  - {note}" for note in self.notes]
        lines.append(
            f"Sign in with: flashback-tui login --profile {profile.name}"
            + ("" if profile.url is None else f" --url {profile.url}")
        )
        lines.append(f"or, for one command or script, set {TOKEN_ENV} (and FLASHBACK_URL).")
        super().__init__("\n".join(lines))


# ---------------------------------------------------------------------------------------------
# The stored credential
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredCredential:
    """Tokens of one profile, with the account and URL they belong to."""

    access_token: SecretStr
    refresh_token: SecretStr | None = None
    #: Expiry of the access token, Unix time in milliseconds (None: unknown).
    expires_at: int | None = None
    email: str | None = None
    url: str | None = None

    def to_json(self) -> str:
        """The document a store keeps (this is the one place tokens are revealed)."""
        return json.dumps({
            "accessToken": self.access_token.get_secret_value(),
            "refreshToken": None if self.refresh_token is None
            else self.refresh_token.get_secret_value(),
            "expiresAt": self.expires_at,
            "email": self.email,
            "url": self.url,
        })

    @classmethod
    def from_json(cls, text: str, where: str) -> StoredCredential:
        """Parse a stored document; a damaged one is a CredentialError naming ``where``."""
        try:
            data = json.loads(text)
            access = data["accessToken"]
            if not isinstance(access, str) or not access:
                raise ValueError
            refresh = data.get("refreshToken")
            expires = data.get("expiresAt")
            return cls(
                access_token=SecretStr(access),
                refresh_token=SecretStr(refresh) if isinstance(refresh, str) and refresh
                else None,
                expires_at=int(expires) if isinstance(expires, int | float) else None,
                email=data.get("email") if isinstance(data.get("email"), str) else None,
                url=data.get("url") if isinstance(data.get("url"), str) else None,
            )
        except (ValueError, KeyError, TypeError):
            raise CredentialError(
                f"the credential in {where} is damaged; sign in again to replace it"
            ) from None

    def with_tokens(
        self, access_token: SecretStr, refresh_token: SecretStr | None, expires_at: int | None
    ) -> StoredCredential:
        """The same account with fresh tokens."""
        return StoredCredential(access_token, refresh_token or self.refresh_token,
                                expires_at, self.email, self.url)


class CredentialStore(Protocol):
    """A place that keeps one credential per profile."""

    def where(self, profile: Profile) -> str:
        """How the user is told where the credential lives."""
        ...

    def load(self, profile: Profile) -> StoredCredential | None: ...

    def save(self, profile: Profile, credential: StoredCredential) -> None: ...

    def delete(self, profile: Profile) -> bool: ...
