"""``/policy/violations``, ``/policy/alerts`` (and per policy), ``/policy/validate``,
``/policy/recommend``: the literal segments at the depth of ``{policyId}``, routed first.

Lists are newest first, ``take`` 50 by default and clamped to 100; a caller sees only the
workspaces they belong to (org OWNER and ADMINISTRATORS see all). For alerts, a workspace or
repository the caller cannot access yields an empty list, not an error.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import unquote

from fastapi import APIRouter, HTTPException, Query

from flashback_tui.api.models import (
    PAGE_DEFAULT,
    PAGE_MAX,
    Alert,
    AlertPage,
    PolicyIssue,
    PolicyRecommendation,
    PolicyRecommendationRequest,
    PolicyRecommendationResponse,
    PolicyValidationRequest,
    PolicyValidationResponse,
    PolicyValidationResult,
    Violation,
    ViolationPage,
)
from flashback_tui.server import policy_advice
from flashback_tui.server.deps import CurrentUser, State, User, error_responses
from flashback_tui.server.openapi import ISO_INSTANT, csv_of
from flashback_tui.server.sql import Conn
from flashback_tui.server.store import policies as policy_store
from flashback_tui.server.store import violations as violation_store
from flashback_tui.server.store.violations import ListFilters, ViolationRecord

router = APIRouter(responses=error_responses(400, 401, 403, 404, 500))

_Str = Annotated[str | None, Query(max_length=4096)]
_RISKS = ("LOW", "MEDIUM", "HIGH")
#: The filters the server parses, with their rules stated in the schema.
_Count = Annotated[str | None, Query(max_length=18, json_schema_extra={"pattern": "^[0-9]*$"})]
_When = Annotated[str | None, Query(max_length=4096, json_schema_extra={
    "pattern": f"^(?:{ISO_INSTANT.format(sep='T')})?$"})]
_From = Annotated[str | None, Query(alias="from", max_length=64, json_schema_extra={
    "pattern": f"^(?:{ISO_INSTANT.format(sep='T')})?$"})]
_Severity = Annotated[str | None, Query(max_length=4096, json_schema_extra={
    "pattern": csv_of(_RISKS)})]
_Block = Annotated[str | None, Query(json_schema_extra={"pattern": "^(?:true|false)?$"})]


def _csv(value: str | None) -> list[str]:
    if not value:
        return []
    return [v.strip() for v in unquote(value).split(",") if v.strip()]


def _ms(value: str | None, name: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        at = datetime.fromisoformat(value.replace("Z", "+00:00").replace(" ", "+"))
    except ValueError:
        raise HTTPException(400, f"{name}: not an ISO 8601 date") from None
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return int(at.timestamp() * 1000)


def _int(value: str | None, name: str, default: int) -> int:
    if value is None or value == "":
        return default
    if not (value.isascii() and value.isdigit()):
        raise HTTPException(400, f"{name}: not a number (digits only)")
    return int(value)


def _block(value: str | None) -> bool | None:
    if value is None or value == "":
        return None
    if value not in ("true", "false"):
        raise HTTPException(400, "block: must be true or false")
    return value == "true"


def _filters(*, workspace_id: str | None, repo_id: str | None, policy_id: str | None,
             from_: str | None, to: str | None, take: str | None, skip: str | None,
             llm_type: str | None, llm_model: str | None, host: str | None,
             severity: str | None = None, block: str | None = None) -> ListFilters:
    risks = [s.upper() for s in _csv(severity)]
    if any(r not in _RISKS for r in risks):
        raise HTTPException(400, "severity: a CSV of LOW, MEDIUM, HIGH")
    return ListFilters(
        workspace_id=workspace_id or None, repo_id=repo_id or None, policy_id=policy_id or None,
        from_ms=_ms(from_, "from"), to_ms=_ms(to, "to"),
        take=min(_int(take, "take", PAGE_DEFAULT), PAGE_MAX), skip=_int(skip, "skip", 0),
        llm_type=_csv(llm_type), llm_model=_csv(llm_model), host=_csv(host), severity=risks,
        block=_block(block))


def _visible(conn: Conn, user: CurrentUser) -> set[str] | None:
    if policy_store.is_org_admin(user.org_role):
        return None
    return policy_store.member_workspaces(conn, user.id)


def _check_scope(conn: Conn, user: CurrentUser, f: ListFilters,
                 visible: set[str] | None, *, strict: bool) -> bool:
    """Whether the asked workspace/repository/policy is visible; 404 if not and ``strict``."""
    checks = []
    if f.workspace_id is not None:
        checks.append(visible is None or f.workspace_id in visible)
    if f.repo_id is not None:
        ws = policy_store.repo_workspace(conn, f.repo_id, user.org_id)
        checks.append(ws is not None and (visible is None or ws in visible))
    if f.policy_id is not None:
        policy = policy_store.get_policy(conn, f.policy_id)
        # A deleted policy's rows stay listable; they are still narrowed to what is visible.
        checks.append(policy is None or (policy.org_id == user.org_id and (
            visible is None or policy.workspace_id is None or policy.workspace_id in visible)))
    if all(checks):
        return True
    if strict:
        raise HTTPException(404, "not found, or not visible to you")
    return False


def _wire(r: ViolationRecord) -> dict[str, object]:
    return {"id": r.id, "policy_id": r.policy_id, "policy_name": r.policy_name,
            "timestamp": datetime.fromtimestamp(r.at_ms / 1000, tz=UTC),
            "conversation_id": r.conversation_id, "repo_id": r.repo_id,
            "repo_name": r.repo_name, "user_id": r.user_id, "user_name": r.user_name,
            "repo_ai_api_key_id": r.repo_ai_api_key_id,
            "repo_ai_api_key_name": r.repo_ai_api_key_name, "llm_type": r.llm_type,
            "llm_model": r.llm_model, "host": r.host}


def _violations(state: State, user: CurrentUser, f: ListFilters) -> ViolationPage:
    conn = state.db.conn()
    visible = _visible(conn, user)
    _check_scope(conn, user, f, visible, strict=True)
    rows, total = violation_store.list_violations(conn, user.org_id, visible, f)
    items = [Violation(**_wire(r), explanation=r.explanation, severity=r.severity,
                       block=r.block) for r in rows]
    return ViolationPage(success=True, violations=items, total=total, skip=f.skip, take=f.take)


def _alerts(state: State, user: CurrentUser, f: ListFilters) -> AlertPage:
    conn = state.db.conn()
    visible = _visible(conn, user)
    if not _check_scope(conn, user, f, visible, strict=False):
        return AlertPage(success=True, alerts=[], total=0, skip=f.skip, take=f.take)
    rows, total = violation_store.list_alerts(conn, user.org_id, visible, f)
    items = [Alert(**_wire(r), message=r.explanation) for r in rows]
    return AlertPage(success=True, alerts=items, total=total, skip=f.skip, take=f.take)


Q = Query


@router.get("/violations", response_model=ViolationPage, summary="Policy violations")
def list_violations(user: User, state: State, workspaceId: _Str = None,
                    repoId: _Str = None, policyId: _Str = None,
                    from_: _From = None,
                    to: _When = None, take: _Count = None, skip: _Count = None,
                    llmType: _Str = None, llmModel: _Str = None, host: _Str = None,
                    severity: _Severity = None, block: _Block = None) -> ViolationPage:
    """Violations the caller may see, newest first."""
    return _violations(state, user, _filters(
        workspace_id=workspaceId, repo_id=repoId, policy_id=policyId, from_=from_, to=to,
        take=take, skip=skip, llm_type=llmType, llm_model=llmModel, host=host,
        severity=severity, block=block))


@router.get("/alerts", response_model=AlertPage, summary="Policy alerts")
def list_alerts(user: User, state: State, workspaceId: _Str = None,
                repoId: _Str = None, policyId: _Str = None,
                from_: _From = None,
                to: _When = None, take: _Count = None, skip: _Count = None,
                llmType: _Str = None, llmModel: _Str = None, host: _Str = None,
                ) -> AlertPage:
    """Alerts the caller may see, newest first."""
    return _alerts(state, user, _filters(
        workspace_id=workspaceId, repo_id=repoId, policy_id=policyId, from_=from_, to=to,
        take=take, skip=skip, llm_type=llmType, llm_model=llmModel, host=host))


@router.get("/{policy_id}/violations", response_model=ViolationPage,
            summary="Violations of one policy")
def policy_violations(policy_id: str, user: User, state: State,
                      workspaceId: _Str = None, repoId: _Str = None,
                      from_: _From = None,
                      to: _When = None, take: _Count = None, skip: _Count = None,
                      llmType: _Str = None, llmModel: _Str = None,
                      host: _Str = None, severity: _Severity = None, block: _Block = None
                      ) -> ViolationPage:
    """Violations of one policy the caller may see."""
    return _violations(state, user, _filters(
        workspace_id=workspaceId, repo_id=repoId, policy_id=policy_id, from_=from_, to=to,
        take=take, skip=skip, llm_type=llmType, llm_model=llmModel, host=host,
        severity=severity, block=block))


@router.get("/{policy_id}/alerts", response_model=AlertPage, summary="Alerts of one policy")
def policy_alerts(policy_id: str, user: User, state: State,
                  workspaceId: _Str = None, repoId: _Str = None,
                  from_: _From = None,
                  to: _When = None, take: _Count = None, skip: _Count = None,
                  llmType: _Str = None, llmModel: _Str = None,
                  host: _Str = None) -> AlertPage:
    """Alerts of one policy the caller may see."""
    return _alerts(state, user, _filters(
        workspace_id=workspaceId, repo_id=repoId, policy_id=policy_id, from_=from_, to=to,
        take=take, skip=skip, llm_type=llmType, llm_model=llmModel, host=host))


@router.post("/validate", response_model=PolicyValidationResponse, summary="Lint policies")
def validate_policies(body: PolicyValidationRequest, user: User) -> PolicyValidationResponse:
    """A score, a severity and concrete issues for each content."""
    del user
    results = []
    for item in body.policies:
        verdict = policy_advice.lint(item.content)
        results.append(PolicyValidationResult(
            policy_uuid=item.policy_uuid, score=verdict.score, advice=verdict.advice,
            severity=verdict.severity,
            issues=[PolicyIssue(type=i.type, description=i.description,
                                suggestion=i.suggestion) for i in verdict.issues]))
    return PolicyValidationResponse(results=results)


@router.post("/recommend", response_model=PolicyRecommendationResponse,
             summary="Recommend enforceable policies")
def recommend_policies(body: PolicyRecommendationRequest, user: User
                       ) -> PolicyRecommendationResponse:
    """Rules from the built-in catalogue for the use case in ``prompt``."""
    del user
    rules = policy_advice.recommend(body.prompt)
    return PolicyRecommendationResponse(
        level=body.level, uuid=body.uuid or "", tokens_in=0, tokens_out=0,
        recommended_policies=[PolicyRecommendation(content=r.content, risk_type=r.risk_type,
                                                   alert_type=r.alert_type) for r in rules])
