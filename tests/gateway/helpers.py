"""Helpers of the gateway tests: the platform's HTTP API as one user, and a linked world.

``make_linked`` builds, through the real HTTP API of the ``platform`` fixture, a configuration
pointing at the provider stand-in, a repository using it and an AI API key of that
repository; tests then call ``{platform.url}/v1`` with the official ``openai`` SDK.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from flashback_tui.server.state import PlatformState
from tests.conftest import PlatformHandle, World
from tests.support.fake_provider import DEFAULT_VALID_KEY


class Api:
    """A small helper over the platform's HTTP API with one user's token."""

    def __init__(self, url: str, token: str) -> None:
        self.http = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"},
                                 timeout=30)

    def call(self, method: str, path: str, expect: int = 200, **kwargs: Any) -> dict[str, Any]:
        """Send a request and check its status; the JSON answer."""
        response = self.http.request(method, path, **kwargs)
        assert response.status_code == expect, (response.status_code, response.text)
        return response.json()


@dataclass
class Linked:
    """A configuration, a repository linked to it and one AI API key of that repository."""

    world: World
    api: Api
    llm_id: str
    repo_id: str
    key_id: str
    secret: str
    base_url: str

    def as_role(self, role: str) -> Api:
        """The API as another member of the world (READ, WRITE, ADMIN, NONE)."""
        return Api(str(self.api.http.base_url), self.world.tokens[role])


def make_linked(platform: PlatformHandle, world: World, endpoint: str, *,
                ai_type: str = "OPENAI", secret: str = DEFAULT_VALID_KEY,
                repo_name: str = "docs-bot") -> Linked:
    """Create configuration -> repository -> key through the API as the WRITE user."""
    api = Api(platform.url, world.tokens["WRITE"])
    llm_id = api.call("POST", "/ai/llm", json={
        "name": f"{ai_type.lower()}-config-{repo_name}", "aiType": ai_type, "endpoint": endpoint,
        "secret": secret, "workspaceId": world.workspace_id,
    })["aiLlmId"]
    repo_id = api.call("POST", "/repo", json={
        "name": repo_name, "workspaceId": world.workspace_id, "storageType": "S3",
        "mode": "NORMAL", "repoAiLlms": [{"aiLlmId": llm_id}],
    })["repoId"]
    created = api.call("POST", f"/repo/{repo_id}/ai/apikey",
                       json={"name": "ci", "aiType": ai_type})
    return Linked(world=world, api=api, llm_id=llm_id, repo_id=repo_id, key_id=created["id"],
                  secret=created["secret"], base_url=f"{platform.url}/v1")


def stats_of(api: Api, llm_id: str) -> dict[str, int]:
    """``GET /ai/llm/stats`` of one configuration, counters as ints."""
    stats = api.call("GET", "/ai/llm/stats", params={"aiLlmId": llm_id})["stats"]
    assert len(stats) == 1
    return {name: int(value) for name, value in stats[0].items() if name != "aiLlmId"}


def org_of(platform: PlatformHandle, workspace_id: str) -> str:
    """The org of a workspace (set-up only: read from the platform's database)."""
    with PlatformState.open(platform.data_dir, env=platform.env) as state:
        return state.db.conn().execute("SELECT org_id FROM workspaces WHERE id = ?",
                                       (workspace_id,)).fetchone()[0]
