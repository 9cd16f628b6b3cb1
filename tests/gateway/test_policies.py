"""Workspace policies: block refuses before forwarding, alert forwards, both are counted."""

from __future__ import annotations

from typing import Any

import openai
import pytest

from tests.gateway.helpers import Linked, stats_of
from tests.support.fake_provider import FakeProvider


def add_policy(linked: Linked, name: str, content: str, risk: str, action: int) -> str:
    return linked.api.call("POST", "/policy", json={
        "name": name, "content": content, "riskType": risk, "actionType": action,
        "workspaceId": linked.world.workspace_id,
    })["policyId"]


def minute_point(linked: Linked) -> dict[str, Any]:
    data = linked.api.call("GET", "/aistats/minute", params={"aiLlmId": linked.llm_id})["data"]
    assert len(data) == 1
    return data[0]


def client_for(linked: Linked) -> openai.OpenAI:
    return openai.OpenAI(base_url=linked.base_url, api_key=linked.secret, max_retries=0)


def test_block_policy_refuses_and_never_forwards(linked: Linked, provider: FakeProvider) -> None:
    add_policy(linked, "no secrets", "password, secret key", "HIGH", 2)
    before = len(provider.requests_for("ok"))
    with pytest.raises(openai.PermissionDeniedError) as caught:
        client_for(linked).chat.completions.create(
            model="m", messages=[{"role": "user", "content": "my PASSWORD is hunter2"}])
    assert caught.value.status_code == 403
    assert caught.value.code == "policy_blocked" and "no secrets" in caught.value.message
    assert len(provider.requests_for("ok")) == before  # never forwarded
    stats = stats_of(linked.api, linked.llm_id)
    assert stats["totalBlocks"] == 1 and stats["totalPolicyViolations"] == 1
    assert stats["totalAlerts"] == 0 and stats["totalLlmTokensIn"] == 0
    point = minute_point(linked)
    assert (point["numSeverityHigh"], point["numSeverityLow"]) == (1, 0)

    # "passwords" is not the whole word "password": this one goes through
    answer = client_for(linked).chat.completions.create(
        model="m", messages=[{"role": "user", "content": "reset passwords weekly"}])
    assert answer.choices[0].message.content == "You said: reset passwords weekly"
    assert stats_of(linked.api, linked.llm_id)["totalBlocks"] == 1


def test_alert_policy_forwards_and_counts(linked: Linked, provider: FakeProvider) -> None:
    add_policy(linked, "ssn", r"re:\b\d{3}-\d{2}-\d{4}\b", "MEDIUM", 1)
    add_policy(linked, "pii words", "ssn, social security", "LOW", 1)
    answer = client_for(linked).chat.completions.create(
        model="m", messages=[{"role": "user", "content": "my SSN is 123-45-6789"}])
    assert answer.choices[0].message.content == "You said: my SSN is 123-45-6789"
    stats = stats_of(linked.api, linked.llm_id)
    assert stats["totalApiCalls"] == 1 and stats["totalBlocks"] == 0
    assert stats["totalAlerts"] == 2 and stats["totalPolicyViolations"] == 2
    assert stats["totalLlmTokensIn"] == 4
    point = minute_point(linked)
    assert (point["numSeverityLow"], point["numSeverityMedium"]) == (1, 1)


def test_policy_changes_apply_at_once(linked: Linked) -> None:
    policy_id = add_policy(linked, "rule", "forbidden", "LOW", 1)
    client = client_for(linked)
    client.chat.completions.create(model="m", messages=[{"role": "user", "content": "forbidden"}])
    linked.api.call("PUT", f"/policy/{policy_id}", json={"actionType": 2})
    with pytest.raises(openai.PermissionDeniedError):
        client.chat.completions.create(model="m",
                                       messages=[{"role": "user", "content": "forbidden"}])
    linked.api.call("DELETE", f"/policy/{policy_id}")
    client.chat.completions.create(model="m", messages=[{"role": "user", "content": "forbidden"}])
    stats = stats_of(linked.api, linked.llm_id)
    assert (stats["totalApiCalls"], stats["totalAlerts"], stats["totalBlocks"]) == (3, 1, 1)


def test_policy_crud_roles_and_validation(linked: Linked) -> None:
    ws = linked.world.workspace_id
    body = {"name": "p", "content": "alpha, beta", "riskType": "LOW", "actionType": 1,
            "workspaceId": ws}
    linked.as_role("READ").call("POST", "/policy", expect=403, json=body)
    linked.as_role("NONE").call("POST", "/policy", expect=404, json=body)
    policy_id = linked.as_role("ADMIN").call("POST", "/policy", json=body)["policyId"]
    linked.api.call("POST", "/policy", expect=400, json=body)  # duplicate name

    listed = linked.as_role("READ").call("GET", "/policy", params={"workspaceId": ws})
    assert [p["id"] for p in listed["policies"]] == [policy_id]
    got = linked.as_role("READ").call("GET", f"/policy/{policy_id}")["policy"]
    assert (got["content"], got["riskType"], got["actionType"]) == ("alpha, beta", "LOW", 1)
    assert linked.as_role("NONE").call("GET", "/policy")["policies"] == []
    linked.as_role("NONE").call("GET", f"/policy/{policy_id}", expect=404)
    linked.as_role("READ").call("PUT", f"/policy/{policy_id}", expect=403, json={"name": "x"})
    linked.as_role("READ").call("DELETE", f"/policy/{policy_id}", expect=403)

    bad = [
        ({**body, "name": "r1", "content": "re:("}, "content"),
        ({**body, "name": "r2", "content": "re:(a+)+$"}, "content"),
        ({**body, "name": "r3", "content": " , ,"}, "content"),
        ({**body, "name": "r4", "riskType": "SEVERE"}, "riskType"),
        ({**body, "name": "r5", "actionType": 3}, "actionType"),
        ({**body, "name": "r6", "actionType": "2"}, "actionType"),
        ({k: v for k, v in body.items() if k != "content"}, "content"),
    ]
    for payload, field in bad:
        answer = linked.api.call("POST", "/policy", expect=400, json=payload)
        assert answer["success"] is False and field in answer["message"], answer
    answer = linked.api.call("PUT", f"/policy/{policy_id}", expect=400, json={"content": None})
    assert "content" in answer["message"]
    linked.api.call("PUT", f"/policy/{policy_id}", expect=400, json={"content": "re:[z-a]"})
    linked.api.call("DELETE", f"/policy/{policy_id}")
    linked.api.call("DELETE", f"/policy/{policy_id}", expect=404)
