"""Wire models of repositories (``/repo``) and their AI API keys (``/repo/{id}/ai/apikey``).

A repository is what AI API keys, configuration links, policies and stats hang off. Its
storage fields (``storageType``, ``mode``, buckets) are part of every body but opaque here:
the local platform stores and echoes them without serving storage.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from flashback_tui.api.models.ai_llm import AiLlm
from flashback_tui.api.models.common import (
    AiType,
    IdString,
    ModeType,
    Name,
    Open,
    RequestModel,
    Rows,
    StorageType,
    Timestamp,
    WireModel,
    WireSecret,
    parse_enum,
    reject_null,
)

#: The ``error_code`` values of repository answers.
REPO_ERROR_CODES = (
    "SUCCESS", "NOT_FOUND", "NAME_ALREADY_USED", "MIRROR_MASTER_UNIT_COUNT_INVALID",
    "MIRROR_MASTER_UNIT_MISSING", "MIRROR_UNIT_ALREADY_IN_OTHER_REPO",
    "NORMAL_UNIT_FOLDER_ALREADY_USED", "NORMAL_UNIT_FOLDER_CANNOT_DELETE",
    "NORMAL_UNIT_CANNOT_EDIT_FOLDER", "QUOTA_EXCEEDED",
)
MAX_LINKS = 100
MAX_BUCKETS = 100


class RepoAiLlmLinkIn(RequestModel):
    """A configuration to link: ``{aiLlmId}`` or ``{aiLlm: {id, ...}}``."""

    schema_extra = {"anyOf": [
        {"required": ["aiLlmId"], "properties": {"aiLlmId": {"type": "string"}}},
        {"required": ["aiLlm"], "properties": {"aiLlm": {
            "type": "object", "required": ["id"],
            "properties": {"id": {"type": "string", "minLength": 1}}}}},
    ]}

    ai_llm_id: IdString | None = None
    ai_llm: dict[str, Any] | None = None

    def target_id(self) -> str | None:
        """The id of the configuration this link names."""
        if self.ai_llm_id:
            return self.ai_llm_id
        value = (self.ai_llm or {}).get("id")
        return value if isinstance(value, str) and value else None


class RepoWrite(RequestModel):
    """Body of ``POST /repo`` and ``PUT /repo/{id}`` (a full document both times)."""

    name: Name
    storage_type: StorageType
    mode: ModeType
    workspace_id: IdString
    repo_ai_llms: list[RepoAiLlmLinkIn] | None = Field(default=None, max_length=MAX_LINKS)
    repo_buckets: list[dict[str, Any]] | None = Field(default=None, max_length=MAX_BUCKETS)
    repo_units: list[dict[str, Any]] | None = Field(default=None, max_length=MAX_BUCKETS)
    wallet_address: str | None = Field(default=None, max_length=256)

    _storage = field_validator("storage_type", mode="before")(
        parse_enum(StorageType, "storageType"))
    _mode = field_validator("mode", mode="before")(parse_enum(ModeType, "mode"))

    def linked_ids(self) -> list[str] | None:
        """The configuration ids to link (None when the body did not say)."""
        if self.repo_ai_llms is None:
            return None
        return [i for i in (link.target_id() for link in self.repo_ai_llms) if i]


class RepoIdResponse(WireModel):
    """Answer of create and update; errors carry ``error_code`` and ``error_message``."""

    success: bool
    repo_id: str
    error_code: str | None = Field(default=None, alias="error_code")
    error_message: str | None = Field(default=None, alias="error_message")


class RepoAiLlmInfo(WireModel):
    """A configuration linked to a repository: its id and, where given, the whole of it."""

    ai_llm_id: str | None = None
    ai_llm: AiLlm | None = None


class RepoAiApiKey(WireModel):
    """A repository AI API key as listed (``RepoAiApiKeyDTO``): never the secret.

    ``key`` is the public identifier; ``deletedAt`` is set once the key is revoked.
    """

    keep_null = frozenset({'key', 'deleted_at'})

    id: str
    name: str
    repo_id: str
    key: str | None = None
    ai_type: Open[AiType]
    created_at: Timestamp | None = None
    deleted_at: Timestamp | None = None

    @property
    def revoked(self) -> bool:
        """Whether the key was revoked (it no longer works at the gateway)."""
        return self.deleted_at is not None


class Repo(WireModel):
    """A repository (``StorageRepoWithBuckets``)."""

    id: str
    name: str
    workspace_id: str
    storage_type: Open[StorageType]
    mode: Open[ModeType]
    created_at: Timestamp | None = None
    buckets: list[Any] = Field(default_factory=list)
    ai_llms: Rows[RepoAiLlmInfo] | None = None
    ai_api_keys: Rows[RepoAiApiKey] | None = None
    api_keys: list[Any] | None = None
    disabled: bool | None = None
    wallet_address: str | None = None

    def linked_llm_ids(self) -> list[str]:
        """The ids of the configurations linked to this repository."""
        return [i for i in ((link.ai_llm_id or (link.ai_llm.id if link.ai_llm else None))
                            for link in self.ai_llms or []) if i]


class RepoListResponse(WireModel):
    """Answer of ``GET /repo`` (also the "get one" call, with ``repoId``)."""

    success: bool
    repos: Rows[Repo]


class RepoAiApiKeyCreate(RequestModel):
    """Body of ``POST /repo/{repoId}/ai/apikey``."""

    name: Name
    ai_type: AiType

    _ai_type = field_validator("ai_type", mode="before")(parse_enum(AiType, "aiType"))


class RepoAiApiKeyUpdate(RequestModel):
    """Body of ``PUT /repo/{repoId}/ai/apikey/{apiKeyId}``: only the name can change."""

    never_null = frozenset({"name"})

    name: Name | None = None

    _no_null = field_validator("name", mode="before")(reject_null)


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


class RepoAiApiKeyListResponse(WireModel):
    """Answer of ``GET /repo/{repoId}/ai/apikey``."""

    success: bool
    api_keys: Rows[RepoAiApiKey]
