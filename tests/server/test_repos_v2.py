"""Repositories, their AI API keys and ``POST /ai/models`` (v2 shapes), through HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from flashback_tui.server.state import PlatformState
from flashback_tui.server.store import ai_llms as llm_store
from flashback_tui.server.store import models as model_store
from flashback_tui.server.store import repos as repo_store
from tests.conftest import PlatformHandle, World, make_world
from tests.support.fake_provider import DEFAULT_VALID_KEY, OPENAI_MODELS, FakeProvider
from tests.support.statements import statements_sent


class Api:
    """The platform's HTTP API as one user."""

    def __init__(self, url: str, token: str) -> None:
        self.http = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"},
                                 timeout=30)

    def call(self, method: str, path: str, expect: int = 200, **kwargs: Any) -> Any:
        response = self.http.request(method, path, **kwargs)
        assert response.status_code == expect, (response.status_code, response.text)
        assert "application/json" in response.headers["content-type"]
        return response.json()


@pytest.fixture
def apis(platform: PlatformHandle, world: World) -> Iterator[dict[str, Api]]:
    """One API client per role of the world."""
    clients = {role: Api(platform.url, token) for role, token in world.tokens.items()}
    yield clients
    for client in clients.values():
        client.http.close()


def make_llm(api: Api, world: World, name: str, ai_type: str = "OPENAI") -> str:
    return api.call("POST", "/ai/llm", json={
        "name": name, "aiType": ai_type, "endpoint": "https://llm.example.test/v1",
        "secret": "sk-test-secret-0123456789", "workspaceId": world.workspace_id,
    })["aiLlmId"]


def repo_body(world: World, name: str, *llm_ids: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "storageType": "S3", "mode": "NORMAL",
            "workspaceId": world.workspace_id,
            "repoAiLlms": [{"aiLlmId": llm_id} for llm_id in llm_ids], **extra}


def get_one(api: Api, repo_id: str) -> list[dict[str, Any]]:
    return api.call("GET", f"/repo?repoId={repo_id}")["repos"]


def events_of(data_dir: Path, context_id: str) -> list[tuple[int, int, list[str] | None]]:
    """(context, event, changed) of the audit events about one thing, oldest first."""
    with PlatformState.open(data_dir) as state:
        rows = state.db.conn().execute(
            "SELECT context, event, json_data FROM system_events WHERE context_id = ?"
            " ORDER BY id", (context_id,)).fetchall()
    return [(r[0], r[1], json.loads(r[2])["changed"] if r[2] else None) for r in rows]


def test_get_one_returns_exactly_that_repository(apis: dict[str, Api], world: World) -> None:
    api = apis["WRITE"]
    llm_id = make_llm(api, world, "openai")
    buckets = [{"folder": "docs", "master": True, "bucketId": "b-1"}]
    first = api.call("POST", "/repo", json=repo_body(world, "alpha", llm_id))["repoId"]
    second = api.call("POST", "/repo", json=repo_body(
        world, "beta", storageType="GCS", mode="MIRROR", repoBuckets=buckets,
        walletAddress="0xabc"))
    assert second["success"] is True and set(second) == {"success", "repoId"}
    second_id = second["repoId"]

    [beta] = get_one(apis["READ"], second_id)
    assert beta["id"] == second_id and beta["name"] == "beta"
    assert (beta["storageType"], beta["mode"], beta["buckets"], beta["walletAddress"]) == (
        "GCS", "MIRROR", buckets, "0xabc")
    assert beta["aiLlms"] == [] and beta["aiApiKeys"] == []
    [alpha] = get_one(apis["READ"], first)
    assert alpha["buckets"] == [] and "walletAddress" not in alpha
    [link] = alpha["aiLlms"]
    assert link["aiLlmId"] == llm_id and link["aiLlm"]["id"] == llm_id
    assert link["aiLlm"]["name"] == "openai" and "secret" not in link["aiLlm"]
    assert link["aiLlm"]["repos"][0]["id"] == first

    everything = apis["READ"].call("GET", "/repo?")["repos"]  # the client's empty query
    assert [r["id"] for r in everything] == [first, second_id]
    by_wallet = api.call("GET", "/repo", params={"walletAddress": "0xabc"})["repos"]
    assert [r["id"] for r in by_wallet] == [second_id]
    assert get_one(api, "no-such-repo") == []
    assert get_one(apis["NONE"], first) == []


def test_repo_units_are_echoed_as_buckets(apis: dict[str, Api], world: World) -> None:
    units = [{"folder": "f", "master": False, "unitId": "u-1"}]
    repo_id = apis["WRITE"].call("POST", "/repo", json=repo_body(
        world, "units", repoUnits=units))["repoId"]
    assert get_one(apis["WRITE"], repo_id)[0]["buckets"] == units


def test_create_errors_use_the_repository_shape(apis: dict[str, Api], world: World,
                                                platform: PlatformHandle) -> None:
    api = apis["WRITE"]
    llm_id = make_llm(api, world, "openai")
    api.call("POST", "/repo", json=repo_body(world, "Docs"))
    taken = api.call("POST", "/repo", expect=400, json=repo_body(world, "docs"))
    assert taken == {"success": False, "repoId": "", "error_code": "NAME_ALREADY_USED",
                     "error_message": taken["error_message"]}
    assert "name" in taken["error_message"]

    other = make_world(platform.data_dir)
    foreign_llm = make_llm(Api(platform.url, other.tokens["WRITE"]), other, "theirs")
    for bad in ("no-such-config", foreign_llm):
        answer = api.call("POST", "/repo", expect=404, json=repo_body(world, "x", bad))
        assert answer["error_code"] == "NOT_FOUND" and bad in answer["error_message"]
    by_object = repo_body(world, "by-object")
    by_object["repoAiLlms"] = [{"aiLlm": {"id": llm_id, "name": "openai"}}]
    repo_id = api.call("POST", "/repo", json=by_object)["repoId"]
    assert get_one(api, repo_id)[0]["aiLlms"][0]["aiLlmId"] == llm_id
    empty_link = repo_body(world, "empty-link")
    empty_link["repoAiLlms"] = [{}]
    assert "repoAiLlms.0" in api.call("POST", "/repo", expect=400,
                                      json=empty_link)["error_message"]

    read = apis["READ"].call("POST", "/repo", expect=403, json=repo_body(world, "r"))
    assert read["success"] is False and read["error_message"]
    outsider = apis["NONE"].call("POST", "/repo", expect=404, json=repo_body(world, "r"))
    assert outsider["error_code"] == "NOT_FOUND"
    unknown_ws = {**repo_body(world, "r"), "workspaceId": "no-such-workspace"}
    assert api.call("POST", "/repo", expect=404, json=unknown_ws)["error_code"] == "NOT_FOUND"


def test_put_replaces_links_so_a_configuration_can_be_deleted(
        apis: dict[str, Api], world: World, platform: PlatformHandle) -> None:
    api = apis["WRITE"]
    old, new = make_llm(api, world, "old"), make_llm(api, world, "new")
    repo_id = api.call("POST", "/repo", json=repo_body(world, "bot", old))["repoId"]
    api.call("POST", "/repo", json=repo_body(world, "neighbour"))
    api.call("DELETE", f"/ai/llm/{old}", expect=403)  # in use

    answer = api.call("PUT", f"/repo/{repo_id}", json=repo_body(world, "bot-2", new))
    assert answer == {"success": True, "repoId": repo_id}
    [repo] = get_one(api, repo_id)
    assert repo["name"] == "bot-2" and [link["aiLlmId"] for link in repo["aiLlms"]] == [new]
    api.call("DELETE", f"/ai/llm/{old}")
    api.call("PUT", f"/repo/{repo_id}", json=repo_body(world, "bot-2", new))  # no change

    taken = api.call("PUT", f"/repo/{repo_id}", expect=400,
                     json=repo_body(world, "NEIGHBOUR", new))
    assert (taken["error_code"], taken["repoId"]) == ("NAME_ALREADY_USED", repo_id)
    other = make_world(platform.data_dir)
    moved = api.call("PUT", f"/repo/{repo_id}", expect=400,
                     json={**repo_body(world, "bot-2", new), "workspaceId": other.workspace_id})
    assert "workspaceId" in moved["error_message"]
    assert apis["READ"].call("PUT", f"/repo/{repo_id}", expect=403,
                             json=repo_body(world, "x"))["repoId"] == repo_id
    assert apis["NONE"].call("PUT", f"/repo/{repo_id}", expect=404,
                             json=repo_body(world, "x"))["error_code"] == "NOT_FOUND"

    assert events_of(platform.data_dir, repo_id) == [
        (2, 0, ["mode", "name", "repoAiLlms", "storageType", "workspaceId"]),
        (2, 1, ["name", "repoAiLlms"]),
    ]
    deleted = api.call("DELETE", f"/repo/{repo_id}")
    assert deleted["success"] is True and deleted["message"]
    assert get_one(api, repo_id) == []
    assert events_of(platform.data_dir, repo_id)[-1] == (2, 2, None)
    api.call("DELETE", f"/ai/llm/{new}")


def test_keys_are_renamed_and_revoked_not_deleted(
        apis: dict[str, Api], world: World, platform: PlatformHandle) -> None:
    api = apis["WRITE"]
    llm_id = make_llm(api, world, "openai")
    repo_id = api.call("POST", "/repo", json=repo_body(world, "bot", llm_id))["repoId"]
    keys = f"/repo/{repo_id}/ai/apikey"
    created = api.call("POST", keys, json={"name": "ci", "aiType": "OPENAI"})
    assert set(created) == {"success", "id", "key", "secret", "message"}
    key_id, secret = created["id"], created["secret"]
    api.call("POST", keys, json={"name": "other", "aiType": "OPENAI"})

    renamed = api.call("PUT", f"{keys}/{key_id}", json={"name": "deploy"})
    assert renamed["success"] is True and renamed["message"]
    assert "name" in api.call("PUT", f"{keys}/{key_id}", expect=400,
                              json={"name": "other"})["message"]
    apis["READ"].call("PUT", f"{keys}/{key_id}", expect=403, json={"name": "x"})
    apis["NONE"].call("PUT", f"{keys}/{key_id}", expect=404, json={"name": "x"})
    api.call("PUT", f"{keys}/no-such-key", expect=404, json={"name": "x"})

    revoked = api.call("DELETE", f"{keys}/{key_id}")
    assert revoked["success"] is True and revoked["message"]
    listed = {k["id"]: k for k in api.call("GET", keys)["apiKeys"]}
    assert listed[key_id]["name"] == "deploy" and listed[key_id]["deletedAt"]
    assert listed[key_id]["key"] == created["key"] and listed[key_id]["repoId"] == repo_id
    assert [k["deletedAt"] for k in listed.values() if k["id"] != key_id] == [None]
    assert get_one(api, repo_id)[0]["aiApiKeys"] == list(listed.values())
    refused = httpx.post(f"{platform.url}/v1/chat/completions",
                         headers={"Authorization": f"Bearer {secret}"},
                         json={"model": "m", "messages": [{"role": "user", "content": "hi"}]})
    assert refused.status_code == 401

    api.call("DELETE", f"{keys}/{key_id}", expect=404)  # already revoked
    api.call("PUT", f"{keys}/{key_id}", expect=400, json={"name": "again"})
    api.call("POST", keys, json={"name": "deploy", "aiType": "OPENAI"})  # the name is free
    assert events_of(platform.data_dir, key_id) == [
        (12, 0, ["aiType", "key", "name", "secret"]), (12, 1, ["name"]), (12, 2, None)]
    with PlatformState.open(platform.data_dir) as state:
        digest = state.db.conn().execute("SELECT secret_hash FROM repo_ai_api_keys"
                                         " WHERE id = ?", (key_id,)).fetchone()[0]
    assert digest is None


def _store_models(data_dir: Path, llm_id: str, models: list[model_store.ModelRecord]) -> bool:
    """What a successful validation stores: the provider's model list at this generation."""
    with PlatformState.open(data_dir) as state:
        conn = state.db.conn()
        generation = llm_store.ai_llm_row(conn, llm_id)["generation"]
        return model_store.replace_models(conn, llm_id, generation, models)


def test_ai_models_lists_what_the_linked_configurations_offer(
        apis: dict[str, Api], world: World, platform: PlatformHandle) -> None:
    api = apis["WRITE"]
    openai_id = make_llm(api, world, "openai")
    claude_id = make_llm(api, world, "claude", "ANTHROPIC")
    unlinked = make_llm(api, world, "unlinked")
    repo_id = api.call("POST", "/repo", json=repo_body(world, "bot", openai_id,
                                                       claude_id))["repoId"]
    Record = model_store.ModelRecord
    assert _store_models(platform.data_dir, openai_id, [
        Record("gpt-4o", created=1715367049), Record("gpt-4o-mini", created=1721172741),
        Record("gpt-4o")])
    assert _store_models(platform.data_dir, claude_id,
                         [Record("claude-3-5-haiku", name="Claude Haiku 3.5")])
    assert _store_models(platform.data_dir, unlinked, [Record("not-offered")])

    answer = apis["READ"].call("POST", "/ai/models", json={"repoId": repo_id})
    assert answer["success"] is True
    assert answer["models"] == [
        {"id": "gpt-4o", "name": "gpt-4o", "created": 1715367049, "aiType": "OPENAI",
         "llmType": "OPENAI", "llmProvider": "OPENAI"},
        {"id": "gpt-4o-mini", "name": "gpt-4o-mini", "created": 1721172741,
         "aiType": "OPENAI", "llmType": "OPENAI", "llmProvider": "OPENAI"},
        {"id": "claude-3-5-haiku", "name": "Claude Haiku 3.5", "aiType": "ANTHROPIC",
         "llmType": "ANTHROPIC", "llmProvider": "ANTHROPIC"},
    ]
    narrowed = api.call("POST", "/ai/models", json={"repoId": repo_id, "aiType": "ANTHROPIC"})
    assert [m["id"] for m in narrowed["models"]] == ["claude-3-5-haiku"]
    by_type = api.call("POST", "/ai/models", json={"repoId": repo_id, "llmType": "OPENAI"})
    assert [m["id"] for m in by_type["models"]] == ["gpt-4o", "gpt-4o-mini"]

    api.call("PUT", f"/ai/llm/{claude_id}", json={"endpoint": "https://other.example.test/v1",
                                                  "secret": "sk-new-secret-0123456789"})
    after = api.call("POST", "/ai/models", json={"repoId": repo_id})["models"]
    assert [m["id"] for m in after] == ["gpt-4o", "gpt-4o-mini"]  # the old list is stale

    apis["NONE"].call("POST", "/ai/models", expect=404, json={"repoId": repo_id})
    api.call("POST", "/ai/models", expect=404, json={"repoId": "no-such-repo"})
    assert "aiType" in api.call("POST", "/ai/models", expect=400,
                                json={"repoId": repo_id, "aiType": "NOPE"})["message"]
    assert "repoId" in api.call("POST", "/ai/models", expect=400, json={})["message"]


def test_ai_models_after_a_real_validation(apis: dict[str, Api], world: World) -> None:
    """``POST /ai/llm/{id}/validate`` against the provider stand-in, then ``/ai/models``."""
    api = apis["WRITE"]
    with FakeProvider() as provider:
        llm_id = api.call("POST", "/ai/llm", json={
            "name": "probed", "aiType": "OPENAI", "endpoint": provider.endpoint("ok"),
            "secret": DEFAULT_VALID_KEY, "workspaceId": world.workspace_id})["aiLlmId"]
        repo_id = api.call("POST", "/repo", json=repo_body(world, "models-repo", llm_id))[
            "repoId"]
        assert api.call("POST", "/ai/models", json={"repoId": repo_id})["models"] == []
        assert api.call("POST", f"/ai/llm/{llm_id}/validate")["success"] is True
    models = api.call("POST", "/ai/models", json={"repoId": repo_id})["models"]
    assert sorted(m["id"] for m in models) == sorted(OPENAI_MODELS)
    assert {(m["aiType"], m["llmProvider"], m["created"]) for m in models} == {
        ("OPENAI", "OPENAI", 1700000000)}
    assert api.call("POST", "/ai/models", json={"repoId": repo_id, "aiType": "GOOGLE"}
                    )["models"] == []


def test_listing_takes_a_fixed_number_of_queries(platform: PlatformHandle,
                                                 world: World) -> None:
    def queries_for(count: int) -> int:
        statements: list[str] = []
        with PlatformState.open(platform.data_dir) as state:
            conn = state.db.conn()
            llm_id = llm_store.create_ai_llm(
                conn, state.keyring, workspace_id=world.workspace_id, user_id=None,
                name=f"llm-{count}", ai_type=repo_store.AiType.OPENAI,
                endpoint="https://llm.example.test/v1")
            for n in range(count):
                repo_store.add_repo(conn, f"r{count}-{n}", world.workspace_id, llm_id)
            with statements_sent(state.db) as sent:
                records = repo_store.list_repos(conn, world.user_ids["READ"])
            statements.extend(sent)
        assert len(records) >= count
        return len(statements)

    assert queries_for(2) == queries_for(20)
