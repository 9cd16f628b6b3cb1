"""Wire models of the Flashback AI LLM API, shared by the client and the local server.

Field names are camelCase on the wire (``by_alias``) and snake_case in Python. Secrets are
``SecretStr`` from the moment they are read; they serialize to plaintext only in JSON mode,
i.e. only when a request is actually sent. Nothing here imports FastAPI or textual.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    SecretStr,
    StringConstraints,
    field_validator,
)
from pydantic.alias_generators import to_camel

# ---------------------------------------------------------------------------------------------
# Shared scalar types
# ---------------------------------------------------------------------------------------------


class AiType(StrEnum):
    """The provider family of a configuration."""

    OPENAI = "OPENAI"
    GOOGLE = "GOOGLE"
    ANTHROPIC = "ANTHROPIC"
    AWS = "AWS"
    OTHER = "OTHER"


class Role(StrEnum):
    """A member's access to a workspace. READ < WRITE < ADMIN."""

    READ = "READ"
    WRITE = "WRITE"
    ADMIN = "ADMIN"

    @property
    def can_write(self) -> bool:
        """WRITE and ADMIN may create, update and delete configurations."""
        return self in (Role.WRITE, Role.ADMIN)


#: The usual endpoint of each provider; OTHER has none and must be given one.
DEFAULT_ENDPOINTS: dict[AiType, str | None] = {
    AiType.OPENAI: "https://api.openai.com/v1",
    AiType.ANTHROPIC: "https://api.anthropic.com/v1",
    AiType.GOOGLE: "https://generativelanguage.googleapis.com/v1beta",
    AiType.AWS: "https://bedrock.us-east-1.amazonaws.com",
    AiType.OTHER: None,
}

NAME_MAX_LENGTH = 255
ENDPOINT_MAX_LENGTH = 2048
SECRET_MAX_LENGTH = 8192


def _format_timestamp(value: datetime) -> str:
    """ISO 8601 UTC with milliseconds and a ``Z``, as the platform writes it."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


#: A timestamp that is a datetime in Python and an ISO string on the wire.
Timestamp = Annotated[datetime, PlainSerializer(_format_timestamp, return_type=str)]

#: A 64-bit counter: an int in Python, a decimal string on the wire.
BigCount = Annotated[int, PlainSerializer(str, return_type=str, when_used="json")]


def _reveal(value: SecretStr | str) -> str:
    return value.get_secret_value() if isinstance(value, SecretStr) else value


#: A secret that masks itself in repr/str/python dumps and is plaintext only in JSON dumps
#: (that is, only in the body of a request actually sent, or a token actually issued).
WireSecret = Annotated[SecretStr, PlainSerializer(_reveal, return_type=str, when_used="json")]

Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=NAME_MAX_LENGTH)
]


def check_endpoint(value: str) -> str:
    """Return the endpoint stripped of spaces and a trailing slash, or raise ValueError.

    Endpoints must be absolute http or https URLs with a host. This is the one home of that
    rule: the server, the client, the CLI and the TUI form all call it.
    """
    value = value.strip()
    if not value:
        raise ValueError("endpoint must not be empty")
    if len(value) > ENDPOINT_MAX_LENGTH:
        raise ValueError(f"endpoint is longer than {ENDPOINT_MAX_LENGTH} characters")
    try:
        parts = urlsplit(value)
        port = parts.port  # raises ValueError on a bad port
    except ValueError as exc:
        raise ValueError(f"endpoint is not a valid URL ({exc})") from None
    if parts.scheme not in ("http", "https"):
        raise ValueError("endpoint must be an http:// or https:// URL")
    if not parts.hostname:
        raise ValueError("endpoint must include a host, e.g. https://api.example.com/v1")
    if any(ch.isspace() for ch in value):
        raise ValueError("endpoint must not contain spaces")
    del port
    return value.rstrip("/")


def mask_key(key: str | None) -> str | None:
    """``None``, or ``****`` plus at most the last 4 characters (fewer for short keys)."""
    if not key:
        return None
    visible = 4 if len(key) >= 12 else 0
    return "****" + (key[-visible:] if visible else "")


# ---------------------------------------------------------------------------------------------
# Base classes
# ---------------------------------------------------------------------------------------------


class WireModel(BaseModel):
    """camelCase on the wire, snake_case in Python; unknown fields from servers are ignored."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="ignore", frozen=False,
        defer_build=True,
    )

    def to_wire(self) -> dict[str, Any]:
        """The JSON body to send: aliases, only fields that were set, secrets revealed."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)


class RequestModel(WireModel):
    """A request body: strict about types, so ``{"name": 5}`` is a 400, not a coercion."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="ignore", strict=True
    )

    def given_fields(self) -> dict[str, Any]:
        """The fields the sender set, by Python name: a partial update's changes."""
        return {name: getattr(self, name) for name in self.model_fields_set}


def _reject_null(value: Any, info: Any) -> Any:
    if value is None:
        raise ValueError(f"{info.field_name} must not be null")
    return value


def _parse_ai_type(value: Any) -> Any:
    if isinstance(value, str) and value in AiType.__members__:
        return AiType(value)
    if isinstance(value, str):
        allowed = ", ".join(t.value for t in AiType)
        raise ValueError(f"aiType must be one of {allowed}")
    return value


def _parse_endpoint(value: str | None) -> str | None:
    return None if value is None else check_endpoint(value)


def _parse_secret(value: Any) -> Any:
    raw = value.get_secret_value() if isinstance(value, SecretStr) else value
    if isinstance(raw, str) and len(raw) > SECRET_MAX_LENGTH:
        raise ValueError(f"must be at most {SECRET_MAX_LENGTH} characters")
    if isinstance(raw, str):
        return SecretStr(raw)
    return value


# ---------------------------------------------------------------------------------------------
# AI LLM configurations
# ---------------------------------------------------------------------------------------------


class RepoRef(WireModel):
    """A repository that uses a configuration."""

    id: str
    name: str
    created_at: Timestamp | None = None


ValidationStatus = Literal["VALID", "INVALID", "NOT_VALIDATED"]


class AiLlm(WireModel):
    """An AI LLM configuration as the API returns it. Never carries the secret."""

    id: str
    org_id: str | None = None
    workspace_id: str
    user_id: str | None = None
    name: str
    ai_type: AiType
    endpoint: str | None = None
    key: str | None = Field(default=None, description="null or masked: ****abcd")
    api_key_id: str | None = None
    created_at: Timestamp | None = None
    repos: list[RepoRef] = Field(default_factory=list)
    # Extensions served by the local platform (absent, hence None, on the hosted one).
    validation_status: ValidationStatus | None = None
    validation_message: str | None = None
    validated_at: Timestamp | None = None


class AiLlmCreate(RequestModel):
    """Body of ``POST /ai/llm``."""

    name: Name
    ai_type: AiType
    endpoint: str | None = None
    key: WireSecret | None = None
    secret: WireSecret | None = None
    api_key_uuid: str | None = None
    workspace_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]

    _ai_type = field_validator("ai_type", mode="before")(_parse_ai_type)
    _endpoint = field_validator("endpoint")(_parse_endpoint)
    _secrets = field_validator("key", "secret", mode="before")(_parse_secret)


class AiLlmUpdate(RequestModel):
    """Body of ``PUT /ai/llm/{id}``: partial. An omitted secret keeps the stored one.

    ``name``, ``aiType``, ``endpoint`` and ``secret`` may be omitted but not null; ``key`` and
    ``apiKeyUuid`` may be null, which clears them.
    """

    name: Name | None = None
    ai_type: AiType | None = None
    endpoint: str | None = None
    key: WireSecret | None = None
    secret: WireSecret | None = None
    api_key_uuid: str | None = None

    _no_null = field_validator("name", "ai_type", "endpoint", "secret", mode="before")(
        _reject_null
    )
    _ai_type = field_validator("ai_type", mode="before")(_parse_ai_type)
    _endpoint = field_validator("endpoint")(_parse_endpoint)
    _secrets = field_validator("key", "secret", mode="before")(_parse_secret)


class SuccessResponse(WireModel):
    """``{success, message?}``: delete, logout, and the error shape."""

    success: bool
    message: str | None = None


class ErrorResponse(WireModel):
    """Every error: an HTTP status plus ``{"success": false, "message": ...}``."""

    success: Literal[False] = False
    message: str


class AiLlmIdResponse(WireModel):
    """Answer of create and update."""

    success: bool
    ai_llm_id: str
    message: str | None = None


class AiLlmListResponse(WireModel):
    """Answer of ``GET /ai/llm`` and ``GET /ai/llm/available``."""

    success: bool
    ai_llms: list[AiLlm]


class ValidateResponse(WireModel):
    """Answer of ``POST /ai/llm/{id}/validate``: 200 even when ``success`` is false."""

    success: bool
    message: str


class AiLlmStats(WireModel):
    """Usage totals of one configuration; decimal strings on the wire."""

    ai_llm_id: str
    total_api_calls: BigCount = 0
    total_tokens_in: BigCount = 0
    total_tokens_out: BigCount = 0
    total_llm_tokens_in: BigCount = 0
    total_llm_tokens_out: BigCount = 0
    total_policy_violations: BigCount = 0
    total_alerts: BigCount = 0
    total_blocks: BigCount = 0


class StatsResponse(WireModel):
    """Answer of ``GET /ai/llm/stats``."""

    success: bool
    stats: list[AiLlmStats]


class AiStatsPoint(WireModel):
    """One bucket of ``/aistats/minute`` or ``/aistats/daily``; ``timestamp`` in Unix ms."""

    timestamp: int
    repo_id: str | None = None
    ai_llm_id: str | None = None
    repo_ai_api_key_id: str | None = None
    tokens_in: int = 0
    tokens_out: int = 0
    llm_tokens_in: int = 0
    llm_tokens_out: int = 0
    active_conversations: int = 0
    api_calls: int = 0
    policy_violations: int = 0
    num_alerts: int = 0
    num_blocks: int = 0
    num_severity_low: int = 0
    num_severity_medium: int = 0
    num_severity_high: int = 0
    latency_ms: float = Field(default=0, alias="latency_ms")
    llm_type: str | None = None
    llm_model: str | None = None
    host: str | None = None


class AiStatsResponse(WireModel):
    """Answer of ``/aistats/minute`` and ``/aistats/daily``."""

    success: bool
    data: list[AiStatsPoint]


# ---------------------------------------------------------------------------------------------
# Workspaces
# ---------------------------------------------------------------------------------------------


class UserInfo(WireModel):
    """A user as listed in a workspace."""

    id: str
    name: str | None = None
    last_name: str | None = None
    email: str
    org_role: str | None = None


class WorkspaceUser(WireModel):
    """A membership: who, and with which role."""

    user_id: str
    role: Role
    user: UserInfo | None = None


class Workspace(WireModel):
    """A workspace and its members."""

    id: str
    name: str
    org_id: str | None = None
    users: list[WorkspaceUser] = Field(default_factory=list)

    def role_of(self, user_id: str) -> Role | None:
        """The role ``user_id`` holds here, or None."""
        return next((m.role for m in self.users if m.user_id == user_id), None)


class WorkspaceListResponse(WireModel):
    """Answer of ``GET /workspace``."""

    success: bool
    workspaces: list[Workspace]


class WorkspaceResponse(WireModel):
    """Answer of ``GET /workspace/{id}``."""

    success: bool
    workspace: Workspace


# ---------------------------------------------------------------------------------------------
# Sign-in
# ---------------------------------------------------------------------------------------------


class LoginRequest(RequestModel):
    """Body of ``POST /user/login``."""

    email: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=320)]
    password: WireSecret


class LoginUser(WireModel):
    """The signed-in user."""

    id: str
    email: str
    name: str | None = None
    org_id: str | None = None
    org_role: str | None = None


class LoginResponse(WireModel):
    """Answer of ``POST /user/login``. ``expiresAt`` is Unix time in milliseconds."""

    success: bool
    access_token: WireSecret
    refresh_token: WireSecret
    expires_at: int
    user: LoginUser


class RefreshRequest(RequestModel):
    """Body of ``POST /user/refresh`` and ``POST /user/logout`` (snake_case on the wire)."""

    refresh_token: WireSecret = Field(alias="refresh_token")


class RefreshResponse(WireModel):
    """Answer of ``POST /user/refresh``; ``token`` repeats ``accessToken``."""

    success: bool
    token: WireSecret | None = None
    access_token: WireSecret
    refresh_token: WireSecret
    expires_at: int


# ---------------------------------------------------------------------------------------------
# Repositories and their AI API keys
# ---------------------------------------------------------------------------------------------

IdString = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class RepoAiLlmLink(RequestModel):
    """One configuration to link to a repository: ``{aiLlmId}``."""

    ai_llm_id: IdString


class RepoCreate(RequestModel):
    """Body of ``POST /repo``."""

    name: Name
    workspace_id: IdString
    repo_ai_llms: list[RepoAiLlmLink] = Field(default_factory=list, max_length=100)


class RepoIdResponse(WireModel):
    """Answer of ``POST /repo``."""

    success: bool
    repo_id: str
    message: str | None = None


class RepoAiLlmRef(WireModel):
    """A configuration linked to a repository."""

    ai_llm_id: str
    name: str | None = None
    ai_type: AiType | None = None


class Repo(WireModel):
    """A repository: the configurations it uses and how many AI API keys it has."""

    id: str
    name: str
    workspace_id: str
    created_at: Timestamp | None = None
    repo_ai_llms: list[RepoAiLlmRef] = Field(default_factory=list)
    api_key_count: int = 0


class RepoListResponse(WireModel):
    """Answer of ``GET /repo``."""

    success: bool
    repos: list[Repo]


class RepoAiApiKeyCreate(RequestModel):
    """Body of ``POST /repo/{repoId}/ai/apikey``."""

    name: Name
    ai_type: AiType

    _ai_type = field_validator("ai_type", mode="before")(_parse_ai_type)


class RepoAiApiKeyCreated(WireModel):
    """Answer of ``POST /repo/{repoId}/ai/apikey``: the only time ``secret`` is shown.

    ``key`` is the public identifier of the key; ``secret`` is what an application sends as
    ``Authorization: Bearer <secret>`` to the gateway (``/v1``).
    """

    success: bool
    id: str
    key: str
    secret: WireSecret
    message: str | None = None


class RepoAiApiKey(WireModel):
    """A repository AI API key as listed: never the secret, only its last characters."""

    id: str
    repo_id: str
    name: str
    ai_type: AiType
    key: str
    secret_mask: str
    created_at: Timestamp | None = None


class RepoAiApiKeyListResponse(WireModel):
    """Answer of ``GET /repo/{repoId}/ai/apikey``."""

    success: bool
    api_keys: list[RepoAiApiKey]


# ---------------------------------------------------------------------------------------------
# Workspace policies
# ---------------------------------------------------------------------------------------------

RiskType = Literal["LOW", "MEDIUM", "HIGH"]
#: 1 = alert (the prompt goes through and an alert is counted), 2 = block (refused with 403).
PolicyAction = Literal[1, 2]
POLICY_ALERT = 1
POLICY_BLOCK = 2
POLICY_CONTENT_MAX_LENGTH = 2000

PolicyContent = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1,
                           max_length=POLICY_CONTENT_MAX_LENGTH)
]


class PolicyCreate(RequestModel):
    """Body of ``POST /policy``. ``content`` is a rule (see ``server/policies.py``)."""

    name: Name
    content: PolicyContent
    risk_type: RiskType
    action_type: PolicyAction
    workspace_id: IdString


class PolicyUpdate(RequestModel):
    """Body of ``PUT /policy/{id}``: partial; omitted fields keep their value, null is refused."""

    name: Name | None = None
    content: PolicyContent | None = None
    risk_type: RiskType | None = None
    action_type: PolicyAction | None = None

    _no_null = field_validator("name", "content", "risk_type", "action_type", mode="before")(
        _reject_null
    )


class Policy(WireModel):
    """A workspace policy."""

    id: str
    org_id: str | None = None
    workspace_id: str
    user_id: str | None = None
    name: str
    content: str
    risk_type: RiskType
    action_type: PolicyAction
    created_at: Timestamp | None = None
    updated_at: Timestamp | None = None


class PolicyIdResponse(WireModel):
    """Answer of ``POST /policy`` and ``PUT /policy/{id}``."""

    success: bool
    policy_id: str
    message: str | None = None


class PolicyListResponse(WireModel):
    """Answer of ``GET /policy``."""

    success: bool
    policies: list[Policy]


class PolicyResponse(WireModel):
    """Answer of ``GET /policy/{id}``."""

    success: bool
    policy: Policy
