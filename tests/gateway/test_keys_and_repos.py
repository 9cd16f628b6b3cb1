"""Repositories and AI API keys: access rules, 400s, revocation, secrets never shown again."""

from __future__ import annotations

import logging

import httpx
import openai
import pytest

from tests.conftest import PlatformHandle, World
from tests.gateway.helpers import Api, Linked, make_linked
from tests.support.fake_provider import FakeProvider


def chat(linked: Linked, secret: str | None = None) -> str:
    client = openai.OpenAI(base_url=linked.base_url, api_key=secret or linked.secret,
                           max_retries=0)
    answer = client.chat.completions.create(model="m",
                                            messages=[{"role": "user", "content": "ping"}])
    return answer.choices[0].message.content or ""


def test_revoked_key_is_refused_at_once(linked: Linked) -> None:
    assert chat(linked) == "You said: ping"  # the route is now cached
    linked.api.call("DELETE", f"/repo/{linked.repo_id}/ai/apikey/{linked.key_id}")
    with pytest.raises(openai.AuthenticationError) as caught:
        chat(linked)
    assert caught.value.status_code == 401 and caught.value.code == "invalid_api_key"
    listed = linked.api.call("GET", f"/repo/{linked.repo_id}/ai/apikey")["apiKeys"]
    assert [(k["id"], k["deletedAt"] is not None) for k in listed] == [(linked.key_id, True)]
    linked.api.call("DELETE", f"/repo/{linked.repo_id}/ai/apikey/{linked.key_id}", expect=404)


def test_unknown_or_missing_key_is_401_openai_style(linked: Linked) -> None:
    with pytest.raises(openai.AuthenticationError):
        chat(linked, secret="fbsk_not-a-real-key")
    response = httpx.post(f"{linked.base_url}/chat/completions", json={"messages": []})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_api_key"


def test_bad_bodies_are_400_openai_style(linked: Linked) -> None:
    headers = {"Authorization": f"Bearer {linked.secret}"}
    for content in (b"{not json", b"[]", b'{"model": "m"}', b'{"messages": []}'):
        response = httpx.post(f"{linked.base_url}/chat/completions", content=content,
                              headers={**headers, "Content-Type": "application/json"})
        assert response.status_code == 400, content
        assert response.json()["error"]["type"] == "invalid_request_error"


def test_deleting_the_repository_stops_its_keys_and_frees_the_configuration(
        linked: Linked) -> None:
    linked.api.call("DELETE", f"/ai/llm/{linked.llm_id}", expect=403)  # in use
    llms = linked.api.call("GET", "/ai/llm", params={"workspaceId": linked.world.workspace_id})
    assert llms["aiLlms"][0]["repos"][0]["id"] == linked.repo_id
    chat(linked)
    linked.as_role("READ").call("DELETE", f"/repo/{linked.repo_id}", expect=403)
    linked.as_role("NONE").call("DELETE", f"/repo/{linked.repo_id}", expect=404)
    linked.as_role("ADMIN").call("DELETE", f"/repo/{linked.repo_id}")
    with pytest.raises(openai.AuthenticationError):
        chat(linked)
    linked.api.call("DELETE", f"/ai/llm/{linked.llm_id}")


def test_repo_and_key_access_rules_and_validation(linked: Linked) -> None:
    ws, repo = linked.world.workspace_id, linked.repo_id
    body = {"name": "other", "workspaceId": ws, "storageType": "S3", "mode": "NORMAL",
            "repoAiLlms": [{"aiLlmId": linked.llm_id}]}
    refused = linked.as_role("READ").call("POST", "/repo", expect=403, json=body)
    assert refused["success"] is False and refused["error_message"]
    assert linked.as_role("NONE").call("POST", "/repo", expect=404,
                                       json=body)["error_code"] == "NOT_FOUND"
    for payload, field, status in [
        ({**body, "name": "DOCS-BOT"}, "name", 400),  # taken (any letter case)
        ({**body, "name": ""}, "name", 400),
        ({**body, "repoAiLlms": [{"aiLlmId": "no-such-config"}]}, "repoAiLlms", 404),
        ({**body, "repoAiLlms": "x"}, "repoAiLlms", 400),
        ({**body, "storageType": "FTP"}, "storageType", 400),
        ({"name": "n"}, "workspaceId", 400),
    ]:
        answer = linked.api.call("POST", "/repo", expect=status, json=payload)
        assert answer["success"] is False and answer["repoId"] == "", answer
        assert field in answer["error_message"], answer
        assert "message" not in answer

    repos = linked.as_role("READ").call("GET", "/repo", params={"workspaceId": ws})["repos"]
    assert [(r["id"], len(r["aiApiKeys"])) for r in repos] == [(repo, 1)]
    assert repos[0]["aiLlms"][0]["aiLlmId"] == linked.llm_id
    assert linked.as_role("NONE").call("GET", "/repo")["repos"] == []
    linked.as_role("NONE").call("GET", "/repo", expect=404, params={"workspaceId": ws})

    key_body = {"name": "second", "aiType": "OPENAI"}
    linked.as_role("READ").call("POST", f"/repo/{repo}/ai/apikey", expect=403, json=key_body)
    linked.as_role("NONE").call("POST", f"/repo/{repo}/ai/apikey", expect=404, json=key_body)
    linked.as_role("NONE").call("GET", f"/repo/{repo}/ai/apikey", expect=404)
    for payload, field in [({"name": "ci", "aiType": "OPENAI"}, "name"),
                           ({"name": "k", "aiType": "NOPE"}, "aiType"),
                           ({"name": "k", "aiType": "GOOGLE"}, "aiType"),  # none linked
                           ({"aiType": "OPENAI"}, "name")]:
        answer = linked.api.call("POST", f"/repo/{repo}/ai/apikey", expect=400, json=payload)
        assert field in answer["message"], answer
    linked.as_role("READ").call("DELETE", f"/repo/{repo}/ai/apikey/{linked.key_id}",
                                expect=403)
    linked.as_role("NONE").call("DELETE", f"/repo/{repo}/ai/apikey/{linked.key_id}",
                                expect=404)


def test_key_secret_is_shown_once_and_never_again(
        platform: PlatformHandle, world: World, provider: FakeProvider,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    linked = make_linked(platform, world, provider.endpoint("ok"))
    secret = linked.secret
    assert secret.startswith("fbsk_") and len(secret) > 40
    chat(linked)
    with pytest.raises(openai.AuthenticationError):
        chat(linked, secret=secret + "x")
    api = Api(platform.url, world.tokens["READ"])
    texts = [
        api.http.get(f"/repo/{linked.repo_id}/ai/apikey").text,
        api.http.get("/repo").text,
        api.http.get("/ai/llm").text,
        api.http.get("/aistats/minute").text,
        api.http.get("/openapi.json").text,
    ]
    listed = api.call("GET", f"/repo/{linked.repo_id}/ai/apikey")["apiKeys"]
    assert listed[0]["key"].startswith("fbk_") and listed[0]["deletedAt"] is None
    assert "secret" not in listed[0]
    log_text = (platform.data_dir / "server.log").read_text(errors="replace")
    for text in [*texts, log_text, caplog.text]:
        assert secret not in text
        assert secret[5:25] not in text


def test_provider_secret_never_comes_back_in_errors(
        platform: PlatformHandle, world: World, provider: FakeProvider) -> None:
    canary = "sk-CANARY-0123456789abcdef0123456789"
    linked = make_linked(platform, world, provider.endpoint("echo"), secret=canary)
    with pytest.raises(openai.BadRequestError) as caught:
        chat(linked)
    assert caught.value.status_code == 400
    body = str(caught.value.body) + caught.value.message
    assert canary not in body and canary[:10] not in body and "[redacted]" in body


def test_oversized_chunked_prompt_is_413_openai_style(linked: Linked) -> None:
    def chunks():
        piece = b" " * (1024 * 1024)
        yield b'{"messages": [{"role": "user", "content": "'
        for _ in range(40):
            yield piece
        yield b'"}]}'

    response = httpx.post(f"{linked.base_url}/chat/completions", content=chunks(),
                          headers={"Authorization": f"Bearer {linked.secret}",
                                   "Content-Type": "application/json"}, timeout=60)
    assert response.status_code == 413
    assert "larger than" in response.json()["error"]["message"]


def test_the_gateway_never_follows_a_redirect_to_another_origin(platform, world) -> None:
    from tests.support.redirector import Redirector

    with FakeProvider() as elsewhere:
        with Redirector(elsewhere.url) as redirector:
            linked = make_linked(platform, world, f"{redirector.url}/ok/v1")
            answer = httpx.post(f"{linked.base_url}/chat/completions", timeout=30,
                                headers={"Authorization": f"Bearer {linked.secret}"},
                                json={"model": "m", "messages": [{"role": "user",
                                                                  "content": "hi"}]})
            listed = httpx.get(f"{linked.base_url}/models", timeout=30,
                               headers={"Authorization": f"Bearer {linked.secret}"})
        assert answer.status_code != 200 and "error" in answer.json()
        assert listed.status_code != 200
        assert redirector.paths == ["/ok/v1/chat/completions", "/ok/v1/models"]
        assert elsewhere.requests == []  # the secret never reached the other origin
