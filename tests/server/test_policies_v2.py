"""Policies over HTTP: CRUD shapes, who may write at each scope, validate and recommend."""

from __future__ import annotations

import pytest

from flashback_tui.server.policy_advice import CATALOGUE, check_catalogue
from tests.conftest import PlatformHandle, World
from tests.gateway.helpers import Api, org_of


@pytest.fixture
def org(platform: PlatformHandle, world: World) -> str:
    return org_of(platform, world.workspace_id)


def test_crud_shapes_and_roles(platform: PlatformHandle, world: World, org: str) -> None:
    ws = world.workspace_id
    writer = Api(platform.url, world.tokens["WRITE"])
    reader = Api(platform.url, world.tokens["READ"])
    outsider = Api(platform.url, world.tokens["NONE"])
    admin = Api(platform.url, platform.admin_token)
    body = {"name": "p", "content": "alpha, beta", "riskType": "LOW", "actionType": 1,
            "orgId": org, "workspaceId": ws}
    reader.call("POST", "/policy", expect=403, json=body)
    outsider.call("POST", "/policy", expect=404, json=body)
    writer.call("POST", "/policy", expect=403, json={**body, "workspaceId": None,
                                                      "name": "org"})
    policy = writer.call("POST", "/policy", json=body)["policy"]
    assert (policy["workspaceId"], policy["repoId"], policy["orgId"]) == (ws, None, org)
    assert policy["workspace"]["id"] == ws and "repo" not in policy
    assert policy["createdBy"]["email"] == world.emails["WRITE"]
    writer.call("POST", "/policy", expect=400, json=body)  # duplicate name
    org_wide = admin.call("POST", "/policy", json={**body, "workspaceId": None,
                                                    "name": f"org-{ws[:8]}"})["policy"]
    assert org_wide["workspaceId"] is None and "workspace" not in org_wide

    listed = {p["id"] for p in reader.call("GET", "/policy", params={"orgId": org})["policies"]}
    assert {policy["id"], org_wide["id"]} <= listed
    seen = {p["id"] for p in outsider.call("GET", "/policy", params={"orgId": org})["policies"]}
    assert policy["id"] not in seen and org_wide["id"] in seen
    assert reader.call("GET", "/policy", params={"orgId": "other"})["policies"] == []
    outsider.call("GET", f"/policy/{policy['id']}", expect=404)
    reader.call("PUT", f"/policy/{policy['id']}", expect=403, json={"name": "x"})
    reader.call("DELETE", f"/policy/{policy['id']}", expect=403)
    writer.call("PUT", f"/policy/{org_wide['id']}", expect=403, json={"name": "x"})
    updated = writer.call("PUT", f"/policy/{policy['id']}", json={"actionType": 0})["policy"]
    assert updated["actionType"] == 0 and updated["content"] == "alpha, beta"

    for payload, field in [({**body, "name": "r1", "content": "re:("}, "content"),
                           ({**body, "name": "r2", "content": "re:(a+)+$"}, "content"),
                           ({**body, "name": "r4", "riskType": "SEVERE"}, "riskType"),
                           ({**body, "name": "r5", "actionType": 3}, "actionType")]:
        answer = writer.call("POST", "/policy", expect=400, json=payload)
        assert answer["success"] is False and field in answer["message"]
    prose = writer.call("POST", "/policy", json={**body, "name": "prose",
                                                 "content": "Never share customer data."})
    assert prose["policy"]["content"] == "Never share customer data."
    assert writer.call("DELETE", f"/policy/{policy['id']}")["success"] is True
    writer.call("DELETE", f"/policy/{policy['id']}", expect=404)


def test_validate_and_recommend(platform: PlatformHandle, world: World) -> None:
    api = Api(platform.url, world.tokens["READ"])
    results = api.call("POST", "/policy/validate", json={"policies": [
        {"policy_uuid": "good", "content": r"re:\bAKIA[0-9A-Z]{16}\b"},
        {"policy_uuid": "all", "content": "re:foo|"},
        {"policy_uuid": "bad", "content": "re:("},
        {"policy_uuid": "short", "content": "ab, password"},
        {"policy_uuid": "prose", "content": "Do not leak customer data to the model."},
    ]})
    assert "success" not in results
    by_id = {r["policy_uuid"]: r for r in results["results"]}
    assert by_id["good"]["severity"] == "none" and by_id["good"]["score"] == 100
    for name, kind in (("all", "scope"), ("bad", "clarity"), ("short", "ambiguity"),
                       ("prose", "actionability")):
        assert by_id[name]["score"] < 100 and by_id[name]["severity"] != "none"
        assert kind in {i["type"] for i in by_id[name]["issues"]}
    answer = api.call("POST", "/policy/recommend", json={"level": 1, "uuid": "u1",
                                                         "prompt": "finance team"})
    assert (answer["level"], answer["uuid"], answer["tokens_in"], answer["tokens_out"]) == (
        1, "u1", 0, 0)
    contents = [p["content"] for p in answer["recommended_policies"]]
    assert any("4\\d{3}" in c for c in contents)  # payment cards for finance
    assert all(p["riskType"] in ("low", "medium", "high") and
               p["alertType"] in ("log", "alert", "block")
               for p in answer["recommended_policies"])
    default = api.call("POST", "/policy/recommend", json={"level": 0, "prompt": "anything"})
    assert default["uuid"] == "" and default["recommended_policies"]


def test_catalogue_rules_compile_and_match_samples() -> None:
    assert check_catalogue() == []
    assert len(CATALOGUE) >= 8
