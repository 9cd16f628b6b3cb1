"""Wire models of policies (``/policy``), their violations and alerts, validate, recommend.

Policy validate and recommend speak snake_case and carry no ``success``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints, field_validator

from flashback_tui.api.models.common import (
    IdString,
    Name,
    Open,
    PolicyAction,
    RequestModel,
    RiskType,
    Rows,
    Timestamp,
    WireModel,
    parse_enum,
    reject_null,
)

POLICY_CONTENT_MAX_LENGTH = 4000
#: Violations and alerts: at most this many per page (``take``), 50 when not given.
PAGE_MAX = 100
PAGE_DEFAULT = 50

PolicyContent = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1,
                           max_length=POLICY_CONTENT_MAX_LENGTH)
]
_parse_risk = parse_enum(RiskType, "riskType")


def _parse_action(value: object) -> object:
    if isinstance(value, int) and not isinstance(value, bool):
        if value in tuple(PolicyAction):
            return PolicyAction(value)
        raise ValueError("actionType must be 0 (log), 1 (alert) or 2 (block)")
    return value


class PolicyCreate(RequestModel):
    """Body of ``POST /policy``: no workspace and no repository means the whole org."""

    name: Name
    content: PolicyContent
    risk_type: RiskType
    action_type: PolicyAction
    org_id: IdString
    workspace_id: IdString | None = None
    repo_id: IdString | None = None

    _risk = field_validator("risk_type", mode="before")(_parse_risk)
    _action = field_validator("action_type", mode="before")(_parse_action)


class PolicyUpdate(RequestModel):
    """Body of ``PUT /policy/{id}``: partial; omitted fields keep their value, null is refused."""

    never_null = frozenset({"name", "content", "risk_type", "action_type"})

    name: Name | None = None
    content: PolicyContent | None = None
    risk_type: RiskType | None = None
    action_type: PolicyAction | None = None

    _no_null = field_validator("name", "content", "risk_type", "action_type", mode="before")(
        reject_null
    )
    _risk = field_validator("risk_type", mode="before")(_parse_risk)
    _action = field_validator("action_type", mode="before")(_parse_action)


class PersonRef(WireModel):
    """Who created or last changed something."""

    id: str
    name: str = ""
    last_name: str = ""
    email: str = ""


class NamedRef(WireModel):
    """``{id, name}`` of a workspace or a repository."""

    id: str
    name: str


class Policy(WireModel):
    """A policy (``PolicyDTO``) at org, workspace or repository scope."""

    keep_null = frozenset({'workspace_id', 'repo_id'})

    id: str
    org_id: str
    name: str
    content: str
    risk_type: Open[RiskType]
    action_type: Open[PolicyAction]
    created_by: PersonRef | None = None
    created_at: Timestamp | None = None
    last_updated_by: PersonRef | None = None
    last_updated_at: Timestamp | None = None
    workspace_id: str | None = None
    repo_id: str | None = None
    workspace: NamedRef | None = None
    repo: NamedRef | None = None

    @property
    def scope(self) -> str:
        """``org``, ``workspace`` or ``repo``."""
        return "repo" if self.repo_id else "workspace" if self.workspace_id else "org"


class PolicyResponse(WireModel):
    """Answer of create, get and update."""

    success: bool
    policy: Policy


class PolicyListResponse(WireModel):
    """Answer of ``GET /policy``."""

    success: bool
    policies: Rows[Policy]


class Violation(WireModel):
    """A prompt that matched a policy (``PolicyViolationDTO``); never the prompt itself."""

    keep_null = frozenset({'conversation_id', 'severity'})

    id: str
    policy_id: str
    policy_name: str
    timestamp: Timestamp
    explanation: str
    conversation_id: str | None = None
    repo_id: str
    repo_name: str
    user_id: str
    user_name: str
    repo_ai_api_key_id: str
    repo_ai_api_key_name: str
    severity: Open[RiskType] | None = None
    block: bool
    llm_type: str
    llm_model: str
    host: str


class Alert(WireModel):
    """An alert raised by a policy with action alert or block (``PolicyAlertDTO``)."""

    keep_null = frozenset({'conversation_id'})

    id: str
    policy_id: str
    policy_name: str
    timestamp: Timestamp
    message: str
    conversation_id: str | None = None
    repo_id: str
    repo_name: str
    user_id: str
    user_name: str
    repo_ai_api_key_id: str
    repo_ai_api_key_name: str
    llm_type: str
    llm_model: str
    host: str


class ViolationPage(WireModel):
    """Answer of ``GET /policy/violations`` and ``GET /policy/{id}/violations``."""

    success: bool
    violations: Rows[Violation]
    total: int
    skip: int
    take: int


class AlertPage(WireModel):
    """Answer of ``GET /policy/alerts`` and ``GET /policy/{id}/alerts``."""

    success: bool
    alerts: Rows[Alert]
    total: int
    skip: int
    take: int


class PolicyToValidate(RequestModel):
    """One policy text to lint."""

    policy_uuid: Annotated[str, StringConstraints(max_length=64)] = Field(alias="policy_uuid")
    content: Annotated[str, StringConstraints(max_length=POLICY_CONTENT_MAX_LENGTH)]


class PolicyValidationRequest(RequestModel):
    """Body of ``POST /policy/validate``."""

    policies: list[PolicyToValidate] = Field(max_length=100)


class PolicyIssue(WireModel):
    """A concrete problem found in a policy text."""

    type: str
    description: str
    suggestion: str


Severity = Literal["none", "low", "medium", "high"]


class PolicyValidationResult(WireModel):
    """How good one policy text is (0-100, higher is better), and why."""

    policy_uuid: str = Field(alias="policy_uuid")
    score: float
    advice: str
    issues: Rows[PolicyIssue] = Field(default_factory=list)
    severity: Open[Severity]


class PolicyValidationResponse(WireModel):
    """Answer of ``POST /policy/validate`` (no ``success``)."""

    results: Rows[PolicyValidationResult]


class PolicyRecommendationRequest(RequestModel):
    """Body of ``POST /policy/recommend``: a use case in words, at a scope level."""

    level: Literal[0, 1, 2]
    uuid: Annotated[str, StringConstraints(max_length=64)] | None = None
    prompt: Annotated[str, StringConstraints(min_length=1, max_length=4000)]


class PolicyRecommendation(WireModel):
    """One recommended policy (lowercase risk and alert type, unlike ``Policy``)."""

    content: str
    risk_type: Open[Literal["low", "medium", "high"]]
    alert_type: Open[Literal["log", "alert", "block"]]


class PolicyRecommendationResponse(WireModel):
    """Answer of ``POST /policy/recommend`` (no ``success``)."""

    level: int
    uuid: str
    tokens_in: int = Field(alias="tokens_in")
    tokens_out: int = Field(alias="tokens_out")
    recommended_policies: Rows[PolicyRecommendation] = Field(alias="recommended_policies")


class ViolationFilters(WireModel):
    """The filters of the violation and alert lists (``severity``/``block``: violations only).

    List fields are sent as one comma-joined parameter, as the platform's client does.
    """

    workspace_id: str | None = None
    repo_id: str | None = None
    policy_id: str | None = None
    from_: str | None = Field(default=None, alias="from")
    to: str | None = None
    take: int | None = None
    skip: int | None = None
    llm_type: list[str] | None = None
    llm_model: list[str] | None = None
    host: list[str] | None = None
    severity: list[str] | None = None
    block: bool | None = None

    def to_query(self) -> dict[str, str]:
        """Query parameters as the platform's client builds them."""
        query: dict[str, str] = {}
        for name, value in self.model_dump(by_alias=True, exclude_none=True).items():
            if isinstance(value, list):
                if value:
                    query[name] = ",".join(value)
            elif isinstance(value, bool):
                query[name] = "true" if value else "false"
            else:
                query[name] = str(value)
        return query
