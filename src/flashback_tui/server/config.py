"""How one server instance runs: one pydantic-settings model, read from ``FLASHBACK_*``.

Every field can be set by the environment variable named after it (``FLASHBACK_`` plus the
field name in capitals, e.g. ``FLASHBACK_PROBE_TIMEOUT``) or by keyword when the server is
built in code (tests, the embedded runner).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class SettingsProblem(ValueError):
    """A ``FLASHBACK_*`` value the server cannot use, said in one sentence (never the value)."""


class ServerSettings(BaseSettings):
    """The settings of one local platform server."""

    model_config = SettingsConfigDict(env_prefix="FLASHBACK_", frozen=True, extra="ignore")

    data_dir: Path = Field(description="Directory holding the database and the key file.")
    database_url: SecretStr | None = Field(
        default=None,
        description="The PostgreSQL database to use instead of the data dir's SQLite file "
                    "(postgresql://user:password@host:5432/dbname); secret, as it may hold a "
                    "password.")
    worker_threads: int = Field(
        default=40, ge=1, le=1000,
        description="Threads that answer requests; each holds one database connection while "
                    "it lives.")
    probe_timeout: float = Field(
        default=10.0, gt=0, description="Seconds a validation probe may take.")
    access_token_ttl: float = Field(
        default=3600.0, gt=0, description="Lifetime in seconds of access tokens.")
    refresh_token_ttl: float = Field(
        default=30 * 24 * 3600.0, gt=0, description="Lifetime in seconds of refresh tokens.")
    login_max_failures: int = Field(
        default=5, ge=1,
        description="Failed sign-ins of one email from one address before a lockout.")
    login_lockout: float = Field(
        default=30.0, gt=0,
        description="Seconds of the first lockout, doubled by each further failure.")
    retention_minute_days: float = Field(
        default=14, gt=0, description="Days per-minute usage is kept (daily usage: for ever).")
    retention_violation_days: float = Field(
        default=90, gt=0, description="Days violations and alerts are kept.")
    retention_event_days: float = Field(
        default=90, gt=0, description="Days system events (the audit trail) are kept.")
    retention_interval: float = Field(
        default=3600.0, gt=0, description="Seconds between two pruning passes.")
    upstream_connect_timeout: float = Field(
        default=5.0, gt=0,
        description="Seconds the gateway may take to connect to a provider; then it answers "
                    "504.")
    upstream_first_byte_timeout: float = Field(
        default=30.0, gt=0,
        description="Seconds the gateway waits for a provider's answer to begin (and for "
                    "each further read of a plain answer); then it answers 504.")
    upstream_chunk_timeout: float = Field(
        default=30.0, gt=0,
        description="Seconds the gateway waits between two chunks of a provider's stream; "
                    "then it ends the stream with an error event.")
    durable_usage: bool | None = Field(
        default=None,
        description="Hold each gateway call's answer until its usage (and its policy "
                    "violations) is written, so a crash loses no count of a call its client saw "
                    "complete; calls that finish together share one write. Default: on with a "
                    "PostgreSQL database (replicas), off with SQLite (written every second).")
    strict_wire: bool = Field(
        default=False,
        description="Answer with only the fields the hosted platform's client declares "
                    "(drops the local platform's own additions, such as validationStatus).")

    @field_validator("database_url", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        """An empty ``FLASHBACK_DATABASE_URL`` means the data dir's SQLite file."""
        return None if isinstance(value, str) and not value.strip() else value

    @property
    def database_url_text(self) -> str | None:
        """The database URL to connect with (None: the data dir's SQLite file)."""
        return self.database_url.get_secret_value().strip() if self.database_url else None

    @field_validator("strict_wire", mode="before")
    @classmethod
    def _blank_is_off(cls, value: object) -> object:
        """An empty ``FLASHBACK_STRICT_WIRE`` means off, as an unset one does."""
        return False if isinstance(value, str) and not value.strip() else value

    @field_validator("durable_usage", mode="before")
    @classmethod
    def _blank_is_default(cls, value: object) -> object:
        """An empty ``FLASHBACK_DURABLE_USAGE`` means the default, as an unset one does."""
        return None if isinstance(value, str) and not value.strip() else value

    @classmethod
    def read(cls, **values: Any) -> ServerSettings:
        """The settings from ``values`` and the environment; a bad one is a SettingsProblem."""
        try:
            return cls(**values)
        except ValidationError as exc:
            raise SettingsProblem(_describe(exc, set(values))) from None


def _describe(exc: ValidationError, given: set[str]) -> str:
    """``FLASHBACK_WORKER_THREADS must be a whole number``: each problem, naming the variable.

    Only each error's location and message are used: the input may be a secret (a database
    URL holds a password).
    """
    from flashback_tui.domain.fields import named_problems

    def name_of(loc: tuple[Any, ...]) -> str:
        field = str(loc[0]) if loc else ""
        return field if field in given else f"FLASHBACK_{field.upper()}"

    problems = named_problems(exc, name_of)
    unset = "Unset it to use its default." if len(problems) == 1 else \
        "Unset them to use their defaults."
    return f"{'; '.join(problems)}. {unset}"
