"""Wire models of AI LLM configurations (``/ai/llm``) and AI models (``/ai/models``)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, field_validator

from flashback_tui.api.models.common import (
    CREDENTIAL_SCHEMA,
    ENDPOINT_SCHEMA,
    AiType,
    BigCount,
    IdString,
    Name,
    Open,
    RequestModel,
    Rows,
    Timestamp,
    WireModel,
    WireSecret,
    check_endpoint,
    local_field,
    parse_enum,
    parse_secret,
)


def _parse_endpoint(value: str | None) -> str | None:
    return None if value is None else check_endpoint(value)


class RepoRef(WireModel):
    """A repository that uses a configuration."""

    id: str
    name: str
    created_at: Timestamp | None = None


ValidationStatus = Literal["VALID", "INVALID", "NOT_VALIDATED"]


class AiLlm(WireModel):
    """An AI LLM configuration as the API returns it (``AiLlmDTO``). Never the secret.

    ``repos`` is optional in the contract: ``None`` means the platform did not say, ``[]``
    that no repository uses it. The ``validation_*`` fields are the local platform's own.
    """

    keep_null = frozenset({'key'})

    id: str
    org_id: str | None = None
    workspace_id: str
    user_id: str | None = None
    name: str
    ai_type: Open[AiType]
    endpoint: str | None = None
    key: str | None = Field(default=None, description="null or masked: ****abcd")
    api_key_id: str | None = None
    created_at: Timestamp | None = None
    repos: Rows[RepoRef] | None = None
    validation_status: ValidationStatus | None = local_field()
    validation_message: str | None = local_field()
    validated_at: Timestamp | None = local_field()


_parse_ai_type = parse_enum(AiType, "aiType")


class AiLlmCreate(RequestModel):
    """Body of ``POST /ai/llm``. OTHER has no default endpoint, so it must be given one."""

    schema_extra = {
        "if": {"required": ["aiType"], "properties": {"aiType": {"const": "OTHER"}}},
        "then": {"required": ["endpoint"], "properties": {"endpoint": {"type": "string"}}},
    }

    name: Name
    ai_type: AiType
    endpoint: str | None = Field(default=None, json_schema_extra=ENDPOINT_SCHEMA)
    key: WireSecret | None = Field(default=None, json_schema_extra=CREDENTIAL_SCHEMA)
    secret: WireSecret | None = Field(default=None, json_schema_extra=CREDENTIAL_SCHEMA)
    api_key_uuid: str | None = None
    workspace_id: IdString

    _ai_type = field_validator("ai_type", mode="before")(_parse_ai_type)
    _endpoint = field_validator("endpoint")(_parse_endpoint)
    _secrets = field_validator("key", "secret", mode="before")(parse_secret)


def _not_null(value: Any) -> Any:
    if value is None:
        raise ValueError("must not be null (omit it to keep the stored value)")
    return value


def _secret_given(value: Any) -> Any:
    if value is None:
        raise ValueError("must not be null: a configuration always has a secret (omit it to"
                         " keep the stored one, or send a new one to rotate it)")
    return value


class AiLlmUpdate(RequestModel):
    """Body of ``PUT /ai/llm/{id}``: partial. An omitted secret keeps the stored one.

    ``endpoint: null`` resets the endpoint to the provider type's default, ``key: null``
    removes the key; ``name``, ``aiType``, ``secret`` and ``apiKeyUuid`` may be omitted but
    not null. A change of the endpoint's origin or of ``aiType`` must carry ``secret`` (see
    :func:`flashback_tui.domain.origins.changes_origin_or_type`), except a reset to the type's
    official endpoint.
    """

    never_null = frozenset({"name", "ai_type", "secret", "api_key_uuid"})

    name: Name | None = None
    ai_type: AiType | None = None
    endpoint: str | None = Field(default=None, json_schema_extra=ENDPOINT_SCHEMA)
    key: WireSecret | None = Field(default=None, json_schema_extra=CREDENTIAL_SCHEMA)
    secret: WireSecret | None = Field(default=None, json_schema_extra=CREDENTIAL_SCHEMA)
    api_key_uuid: str | None = None

    _no_null = field_validator("name", "ai_type", "api_key_uuid", mode="before")(_not_null)
    _secret_not_null = field_validator("secret", mode="before")(_secret_given)
    _ai_type = field_validator("ai_type", mode="before")(_parse_ai_type)
    _endpoint = field_validator("endpoint")(_parse_endpoint)
    _secrets = field_validator("key", "secret", mode="before")(parse_secret)


class AiLlmIdResponse(WireModel):
    """Answer of create and update."""

    success: bool
    ai_llm_id: str
    message: str | None = None


class AiLlmListResponse(WireModel):
    """Answer of ``GET /ai/llm`` and ``GET /ai/llm/available``."""

    success: bool
    ai_llms: Rows[AiLlm]


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
    stats: Rows[AiLlmStats]


# ---------------------------------------------------------------------------------------------
# AI models
# ---------------------------------------------------------------------------------------------

LlmType = Annotated[str, StringConstraints(min_length=1, max_length=255)]


class AiModelsRequest(RequestModel):
    """Body of ``POST /ai/models``: the models a repository's configurations offer."""

    repo_id: IdString
    ai_type: AiType | None = None
    llm_type: LlmType | None = None

    _ai_type = field_validator("ai_type", mode="before")(_parse_ai_type)


class AiModel(WireModel):
    """One model a provider offers (``created`` as the provider gave it, if it did)."""

    id: str
    name: str
    created: int | None = None
    ai_type: Open[AiType]
    llm_type: str
    llm_provider: str


class AiModelsResponse(WireModel):
    """Answer of ``POST /ai/models``."""

    success: bool
    models: Rows[AiModel]
