"""Policies at the gateway: block refuses before forwarding, alert and log forward; each
match is a violation (and an alert for alert and block) naming the repository and key, never
the prompt; org, workspace and repository scopes apply only where they should."""

from __future__ import annotations

from typing import Any

import openai
import pytest

from tests.conftest import PlatformHandle, World
from tests.gateway.helpers import Api, Linked, make_linked, org_of
from tests.support.fake_provider import FakeProvider


@pytest.fixture
def org(platform: PlatformHandle, world: World) -> str:
    return org_of(platform, world.workspace_id)


def add_policy(api: Api, org_id: str, name: str, content: str, risk: str, action: int,
               **scope: str) -> str:
    return api.call("POST", "/policy", json={
        "name": name, "content": content, "riskType": risk, "actionType": action,
        "orgId": org_id, **scope,
    })["policy"]["id"]


def ws_policy(linked: Linked, org: str, name: str, content: str, risk: str, action: int
              ) -> str:
    return add_policy(linked.api, org, name, content, risk, action,
                      workspaceId=linked.world.workspace_id)


def client_for(linked: Linked) -> openai.OpenAI:
    return openai.OpenAI(base_url=linked.base_url, api_key=linked.secret, max_retries=0)


def chat(linked: Linked, text: str) -> Any:
    return client_for(linked).chat.completions.create(
        model="m", messages=[{"role": "user", "content": text}])


def test_block_alert_and_log_each_recorded_without_prompt_text(
        linked: Linked, provider: FakeProvider, org: str) -> None:
    block = ws_policy(linked, org, "no secrets", "password, secret key", "HIGH", 2)
    alert = ws_policy(linked, org, "ssn", r"re:\b\d{3}-\d{2}-\d{4}\b", "MEDIUM", 1)
    log = ws_policy(linked, org, "budget", "budget", "LOW", 0)
    before = len(provider.requests_for("ok"))
    with pytest.raises(openai.PermissionDeniedError) as caught:
        chat(linked, "my PASSWORD is hunter2")
    assert caught.value.status_code == 403
    assert caught.value.code == "policy_blocked" and "no secrets" in caught.value.message
    assert len(provider.requests_for("ok")) == before  # never forwarded
    assert chat(linked, "my number is 123-45-6789").choices[0].message.content
    assert chat(linked, "the budget for Q3").choices[0].message.content
    assert chat(linked, "reset passwords weekly").choices[0].message.content  # whole words

    page = linked.api.call("GET", "/policy/violations?")
    assert page["total"] == 3 and (page["skip"], page["take"]) == (0, 50)
    by_policy = {v["policyId"]: v for v in page["violations"]}
    assert [v["policyId"] for v in page["violations"]] == [log, alert, block]  # newest first
    expected = {block: ("HIGH", True), alert: ("MEDIUM", False), log: ("LOW", False)}
    for policy_id, (severity, blocked) in expected.items():
        v = by_policy[policy_id]
        assert (v["severity"], v["block"]) == (severity, blocked)
        assert (v["repoId"], v["repoName"]) == (linked.repo_id, "docs-bot")
        assert (v["repoAiApiKeyId"], v["repoAiApiKeyName"]) == (linked.key_id, "ci")
        assert (v["llmType"], v["llmModel"]) == ("OPENAI", "m") and v["host"]
        assert v["userId"] == linked.world.user_ids["WRITE"]
        assert len(v["conversationId"]) == 36
    assert by_policy[block]["explanation"] == 'matched keyword "password" of policy "no secrets"'
    alerts = linked.api.call("GET", "/policy/alerts?")
    assert alerts["total"] == 2
    assert {a["policyId"] for a in alerts["alerts"]} == {block, alert}
    assert all("severity" not in a and "block" not in a for a in alerts["alerts"])
    text = str(page) + str(alerts)
    for secret in ("hunter2", "123-45-6789", "the budget for Q3", "PASSWORD"):
        assert secret not in text


def test_scopes_apply_only_where_they_should(platform: PlatformHandle, world: World,
                                             provider: FakeProvider, linked: Linked,
                                             org: str) -> None:
    other = make_linked(platform, world, provider.endpoint("ok"), repo_name="other-bot")
    admin = Api(platform.url, platform.admin_token)
    tag = linked.world.workspace_id[:8]
    org_wide = add_policy(admin, org, f"org-{tag}", f"orgword{tag}", "LOW", 0)
    repo_only = add_policy(linked.api, org, "repo", "repoword", "LOW", 0, repoId=linked.repo_id)
    ws_only = ws_policy(linked, org, "ws", "wsword", "LOW", 0)
    for target in (linked, other):
        chat(target, f"orgword{tag} repoword wsword")
    rows = admin.call("GET", "/policy/violations",
                      params={"policyId": org_wide})["violations"]
    assert {v["repoId"] for v in rows} == {linked.repo_id, other.repo_id}
    rows = linked.api.call("GET", f"/policy/{repo_only}/violations")["violations"]
    assert [v["repoId"] for v in rows] == [linked.repo_id]
    rows = linked.api.call("GET", f"/policy/{ws_only}/violations")["violations"]
    assert {v["repoId"] for v in rows} == {linked.repo_id, other.repo_id}
    listed = linked.api.call("GET", "/policy", params={"orgId": org,
                                                       "repoId": linked.repo_id})["policies"]
    assert [p["id"] for p in listed] == [repo_only]
    assert listed[0]["repo"] == {"id": linked.repo_id, "name": "docs-bot"}


def test_policy_changes_and_revoked_keys_apply_at_once(linked: Linked, org: str) -> None:
    policy_id = ws_policy(linked, org, "rule", "forbidden", "LOW", 1)
    chat(linked, "forbidden")
    linked.api.call("PUT", f"/policy/{policy_id}", json={"actionType": 2})
    with pytest.raises(openai.PermissionDeniedError):
        chat(linked, "forbidden")
    linked.api.call("DELETE", f"/policy/{policy_id}")
    chat(linked, "forbidden")
    rows = linked.api.call("GET", f"/policy/{policy_id}/violations")["violations"]
    assert [v["block"] for v in rows] == [True, False]
    assert linked.api.call("GET", f"/policy/{policy_id}/alerts")["total"] == 2
    linked.api.call("DELETE", f"/repo/{linked.repo_id}/ai/apikey/{linked.key_id}")
    with pytest.raises(openai.AuthenticationError):
        chat(linked, "hello")


def test_natural_language_is_stored_not_enforced(linked: Linked, org: str) -> None:
    policy_id = ws_policy(linked, org, "prose", "Do not share customer data with the model.",
                          "HIGH", 2)
    assert chat(linked, "Do not share customer data with the model.").choices
    got = linked.api.call("GET", f"/policy/{policy_id}")["policy"]
    assert got["content"] == "Do not share customer data with the model."
