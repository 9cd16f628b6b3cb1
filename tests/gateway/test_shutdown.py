"""Counts still pending in memory are written when the server stops."""

from __future__ import annotations

from pathlib import Path

import openai

from flashback_tui.server.runner import LocalServer
from tests.gateway.helpers import Api, stats_of
from tests.support.fake_provider import DEFAULT_VALID_KEY, FakeProvider

CALLS = 5


def test_pending_usage_is_written_at_shutdown(tmp_path: Path, provider: FakeProvider) -> None:
    server = LocalServer(tmp_path / "data")
    server.start()
    try:
        api = Api(server.url, server.admin_token.get_secret_value())
        workspace_id = api.call("GET", "/workspace")["workspaces"][0]["id"]
        llm_id = api.call("POST", "/ai/llm", json={
            "name": "c", "aiType": "OPENAI", "endpoint": provider.endpoint("ok"),
            "secret": DEFAULT_VALID_KEY, "workspaceId": workspace_id})["aiLlmId"]
        repo_id = api.call("POST", "/repo", json={
            "name": "r", "workspaceId": workspace_id, "storageType": "S3", "mode": "NORMAL",
            "repoAiLlms": [{"aiLlmId": llm_id}]})["repoId"]
        secret = api.call("POST", f"/repo/{repo_id}/ai/apikey",
                          json={"name": "k", "aiType": "OPENAI"})["secret"]
        client = openai.OpenAI(base_url=f"{server.url}/v1", api_key=secret, max_retries=0)
        with client:
            for n in range(CALLS):
                client.chat.completions.create(
                    model="m", messages=[{"role": "user", "content": f"call {n}"}])
        api.http.close()
    finally:
        server.stop()  # well within the one-second write interval
    server.start()
    try:
        api = Api(server.url, server.admin_token.get_secret_value())
        stats = stats_of(api, llm_id)
        api.http.close()
        assert stats["totalApiCalls"] == CALLS
        assert stats["totalLlmTokensIn"] == 2 * CALLS
    finally:
        server.stop()
