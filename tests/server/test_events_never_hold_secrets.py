"""The audit trail names what changed, never a secret's value: a canary walks through every
kind of change and appears in no event."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx

from tests.conftest import PlatformHandle, World


def test_a_canary_secret_is_in_no_event(platform: PlatformHandle, world: World) -> None:
    canary, key_canary = f"sk-CANARY-{uuid.uuid4().hex}", f"AKIA-CANARY-{uuid.uuid4().hex}"
    headers = {"Authorization": f"Bearer {world.tokens['ADMIN']}"}
    with httpx.Client(base_url=platform.url, headers=headers, timeout=10) as http:
        def ok(method: str, path: str, **kwargs: Any) -> dict[str, Any]:
            answer = http.request(method, path, **kwargs)
            assert answer.status_code == 200, answer.text
            return answer.json()

        llm_id = ok("POST", "/ai/llm", json={
            "name": "canary", "aiType": "OTHER", "endpoint": "https://llm.example.test/v1",
            "key": key_canary, "secret": canary, "workspaceId": world.workspace_id})["aiLlmId"]
        ok("PUT", f"/ai/llm/{llm_id}", json={"secret": canary + "-2", "key": key_canary + "2"})
        ok("PUT", f"/ai/llm/{llm_id}", json={"endpoint": "https://other.example.test/v1",
                                             "secret": canary + "-3"})
        repo_id = ok("POST", "/repo", json={
            "name": "canary-repo", "storageType": "S3", "mode": "NORMAL",
            "workspaceId": world.workspace_id, "repoAiLlms": [{"aiLlmId": llm_id}]})["repoId"]
        created = ok("POST", f"/repo/{repo_id}/ai/apikey", json={"name": "k", "aiType": "OTHER"})
        ok("PUT", f"/repo/{repo_id}/ai/apikey/{created['id']}", json={"name": "k2"})
        ok("DELETE", f"/repo/{repo_id}/ai/apikey/{created['id']}")
        ok("DELETE", f"/repo/{repo_id}")
        ok("DELETE", f"/ai/llm/{llm_id}")
        events = ok("POST", "/systemevent", json={
            "skip": 0, "take": 100, "workspaceId": world.workspace_id})["events"]

    mine = [e for e in events if e["contextId"] in (llm_id, repo_id, created["id"])]
    kinds = [(e["context"], e["event"]) for e in reversed(mine)]
    assert kinds == [("aillm", "created"), ("aillm", "updated"), ("aillm", "updated"),
                     ("repo", "created"), ("aillmapikey", "created"),
                     ("aillmapikey", "updated"), ("aillmapikey", "deleted"),
                     ("repo", "deleted"), ("aillm", "deleted")]
    rotation = json.loads(next(e for e in reversed(mine) if e["event"] == "updated")["jsonData"])
    assert set(rotation["changed"]) == {"key", "secret"}
    assert all(e["userId"] == world.user_ids["ADMIN"] for e in mine)
    text = json.dumps(events)
    for needle in (canary, key_canary, created["secret"], created["secret"][-12:]):
        assert needle not in text
