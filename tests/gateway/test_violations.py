"""Violation and alert lists: every filter, paging and total, and who sees what."""

from __future__ import annotations

import uuid

import openai

from tests.conftest import PlatformHandle, World
from tests.gateway.helpers import Api, Linked, org_of
from tests.gateway.test_policies import add_policy, org  # noqa: F401


def test_filters_paging_and_visibility(platform: PlatformHandle, world: World, linked: Linked,
                                       org: str) -> None:  # noqa: F811
    ws = world.workspace_id
    # Words no other test's policies know: org-wide policies of other tests apply here too.
    alpha, beta = f"alpha{uuid.uuid4().hex[:8]}", f"beta{uuid.uuid4().hex[:8]}"
    high = add_policy(linked.api, org, "high", alpha, "HIGH", 2, workspaceId=ws)
    low = add_policy(linked.api, org, "low", beta, "LOW", 0, workspaceId=ws)
    client = openai.OpenAI(base_url=linked.base_url, api_key=linked.secret, max_retries=0)
    for text in (f"{beta} one", f"{beta} two", f"{beta} three"):
        client.chat.completions.create(model="m-1", messages=[{"role": "user", "content": text}])
    try:
        client.chat.completions.create(model="m-2",
                                       messages=[{"role": "user", "content": alpha}])
    except openai.PermissionDeniedError:
        pass
    api = linked.api

    def count(path: str = "/policy/violations", **params: str) -> int:
        return api.call("GET", path, params={"workspaceId": ws, **params})["total"]

    assert count() == 4
    assert count(severity="HIGH") == 1 and count(severity="HIGH,LOW") == 4
    assert count(block="true") == 1 and count(block="false") == 3
    assert count(policyId=low) == 3 and count(repoId=linked.repo_id) == 4
    assert count(llmModel="m-2") == 1 and count(llmModel="m-1,m-2") == 4
    assert count(llmType="OPENAI") == 4 and count(llmType="GOOGLE") == 0
    host = api.call("GET", "/policy/violations")["violations"][0]["host"]
    assert count(host=host) == 4 and count(host="elsewhere") == 0
    assert count(**{"from": "2000-01-01T00:00:00.000Z"}) == 4
    assert count(to="2000-01-01T00:00:00.000Z") == 0
    api.call("GET", "/policy/violations", expect=400, params={"from": "yesterday"})
    api.call("GET", "/policy/violations", expect=400, params={"severity": "SEVERE"})
    page = api.call("GET", "/policy/violations", params={"take": "2", "skip": "1",
                                                         "workspaceId": ws})
    assert (page["total"], page["skip"], page["take"], len(page["violations"])) == (4, 1, 2, 2)
    assert api.call("GET", "/policy/violations", params={"take": "500"})["take"] == 100
    assert count("/policy/alerts") == 1 and count(f"/policy/{high}/alerts") == 1
    assert count(f"/policy/{low}/violations") == 3

    outsider = Api(platform.url, world.tokens["NONE"])
    assert outsider.call("GET", "/policy/violations")["total"] == 0
    assert outsider.call("GET", "/policy/alerts", params={"workspaceId": ws})["alerts"] == []
    outsider.call("GET", "/policy/violations", expect=404, params={"workspaceId": ws})
    reader = Api(platform.url, world.tokens["READ"])
    assert reader.call("GET", "/policy/violations", params={"workspaceId": ws})["total"] == 4
    admin = Api(platform.url, platform.admin_token)
    assert admin.call("GET", "/policy/violations", params={"workspaceId": ws})["total"] == 4
    assert org_of(platform, ws) == org
