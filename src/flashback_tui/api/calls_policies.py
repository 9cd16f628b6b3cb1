"""The policy calls of the client: policies, their violations and alerts, validate, recommend.

One method per endpoint, named after the TypeScript client's method (``getPolicyViolations``
-> :meth:`PolicyCalls.get_policy_violations`). Filters go on the wire as that client sends
them: lists as one comma-joined parameter; ``severity`` and ``block`` only for violations;
no ``policyId`` on the per-policy calls.
"""

from __future__ import annotations

from flashback_tui.api.models import (
    AlertPage,
    PolicyCreate,
    PolicyListResponse,
    PolicyRecommendationRequest,
    PolicyRecommendationResponse,
    PolicyResponse,
    PolicyUpdate,
    PolicyValidationRequest,
    PolicyValidationResponse,
    SuccessResponse,
    ViolationFilters,
    ViolationPage,
)
from flashback_tui.api.transport import ApiSession, Query, path_id, query

#: Filters the alert lists do not take.
_VIOLATIONS_ONLY = ("severity", "block")


class PolicyCalls(ApiSession):
    """``/policy`` and everything under it."""

    async def create_policy(self, body: PolicyCreate) -> PolicyResponse:
        """``POST /policy``: a new policy at org, workspace or repository level."""
        return await self._call("POST", "/policy", PolicyResponse, json=body.to_wire())

    async def get_policies(self, org_id: str, workspace_id: str | None = None,
                           repo_id: str | None = None) -> PolicyListResponse:
        """``GET /policy``: ``orgId`` is always sent; workspace and repo narrow the list."""
        params = {"orgId": org_id, **(query({"workspaceId": workspace_id,
                                            "repoId": repo_id}) or {})}
        return await self._call("GET", "/policy", PolicyListResponse, params=params)

    async def get_policy(self, policy_id: str) -> PolicyResponse:
        """``GET /policy/{policyId}``."""
        return await self._call("GET", self._policy(policy_id), PolicyResponse)

    async def update_policy(self, policy_id: str, body: PolicyUpdate) -> PolicyResponse:
        """``PUT /policy/{policyId}``: partial update."""
        return await self._call("PUT", self._policy(policy_id), PolicyResponse,
                                json=body.to_wire())

    async def delete_policy(self, policy_id: str) -> SuccessResponse:
        """``DELETE /policy/{policyId}``."""
        return await self._call("DELETE", self._policy(policy_id), SuccessResponse)

    async def get_policy_violations(self, filters: ViolationFilters | None = None
                                    ) -> ViolationPage:
        """``GET /policy/violations``: one page of violations, newest first."""
        return await self._call("GET", "/policy/violations", ViolationPage,
                                params=_filters(filters))

    async def get_policy_violations_by_policy_id(
        self, policy_id: str, filters: ViolationFilters | None = None
    ) -> ViolationPage:
        """``GET /policy/{policyId}/violations``: the violations of one policy."""
        return await self._call("GET", f"{self._policy(policy_id)}/violations", ViolationPage,
                                params=_filters(filters, drop=("policyId",)))

    async def get_policy_alerts(self, filters: ViolationFilters | None = None) -> AlertPage:
        """``GET /policy/alerts``: one page of alerts, newest first."""
        return await self._call("GET", "/policy/alerts", AlertPage,
                                params=_filters(filters, drop=_VIOLATIONS_ONLY))

    async def get_policy_alerts_by_policy_id(
        self, policy_id: str, filters: ViolationFilters | None = None
    ) -> AlertPage:
        """``GET /policy/{policyId}/alerts``: the alerts of one policy."""
        return await self._call("GET", f"{self._policy(policy_id)}/alerts", AlertPage,
                                params=_filters(filters, drop=("policyId", *_VIOLATIONS_ONLY)))

    async def validate_policies(self, body: PolicyValidationRequest
                                ) -> PolicyValidationResponse:
        """``POST /policy/validate``: a score, a severity and issues per policy content."""
        return await self._call("POST", "/policy/validate", PolicyValidationResponse,
                                json=body.to_wire())

    async def recommend_policies(self, body: PolicyRecommendationRequest
                                 ) -> PolicyRecommendationResponse:
        """``POST /policy/recommend``: policies suggested for a prompt at a level."""
        return await self._call("POST", "/policy/recommend", PolicyRecommendationResponse,
                                json=body.to_wire())

    @staticmethod
    def _policy(policy_id: str) -> str:
        return f"/policy/{path_id(policy_id)}"


def _filters(filters: ViolationFilters | None, drop: tuple[str, ...] = ()) -> Query | None:
    """The query of a violation or alert list, without the parameters that call lacks."""
    if filters is None:
        return None
    params = {k: v for k, v in filters.to_query().items() if k not in drop and v != ""}
    return params or None
