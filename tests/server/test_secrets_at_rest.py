"""A canary secret never leaves the seal: not in responses, logs, or any byte on disk.

Each test runs its own server (not the shared ``platform``) so that its data dir and log hold
only what the test did. Responses and the log are checked on both databases; the bytes on
disk are SQLite's files, checked after a WAL checkpoint.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from flashback_tui.server import admin
from flashback_tui.server.db import Database
from flashback_tui.server.runner import LocalServer
from tests.support.fake_provider import FakeProvider


@pytest.fixture
def canary() -> str:
    return f"sk-CANARY-{uuid.uuid4().hex}"


@pytest.fixture
def key_canary() -> str:
    return f"AKIA-KEYCANARY-{uuid.uuid4().hex}"


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[LocalServer]:
    data_dir = tmp_path / "canary-data"
    with LocalServer(data_dir, env={"FLASHBACK_PROBE_TIMEOUT": "2"},
                     log_path=tmp_path / "canary-server.log") as server:
        yield server


def all_bytes_under(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in directory.rglob("*") if p.is_file()}


def exercise(server: LocalServer, canary: str, key_canary: str) -> list[bytes]:
    """Store, validate, echo and refuse the canaries over HTTP; every response seen."""
    seen: list[bytes] = []

    def record(response: httpx.Response) -> None:
        response.read()
        seen.append(response.content)
        seen.append(str(response.headers).encode())

    headers = {"Authorization": f"Bearer {server.admin_token.get_secret_value()}"}
    with FakeProvider(valid_keys={canary}) as provider, httpx.Client(
        base_url=server.url, headers=headers, event_hooks={"response": [record]}, timeout=10
    ) as http:
        workspace_id = http.get("/workspace").json()["workspaces"][0]["id"]
        body = {"name": "canary", "aiType": "OPENAI", "endpoint": provider.endpoint("ok"),
                "key": key_canary, "secret": canary, "workspaceId": workspace_id}
        llm_id = http.post("/ai/llm", json=body).json()["aiLlmId"]
        assert http.post(f"/ai/llm/{llm_id}/validate").json()["success"] is True
        # A provider that echoes credentials back in its error body.
        http.put(f"/ai/llm/{llm_id}", json={"endpoint": provider.endpoint("echo")})
        assert http.post(f"/ai/llm/{llm_id}/validate").json()["success"] is False
        # Refused requests carrying the canary: duplicate name, bad endpoint, bad type.
        assert http.post("/ai/llm", json=body).status_code == 400
        assert http.post("/ai/llm", json={**body, "name": "x", "endpoint": "ftp://h"}
                         ).status_code == 400
        assert http.post("/ai/llm", json={**body, "name": "y", "aiType": canary}
                         ).status_code == 400
        assert http.post("/ai/llm", json={**body, "name": 5}).status_code == 400
        assert http.put(f"/ai/llm/{llm_id}", json={"secret": canary, "name": None}
                        ).status_code == 400
        listed = http.get("/ai/llm").json()["aiLlms"]
        assert listed[0]["key"] == "****" + key_canary[-4:]
        http.get("/ai/llm/available")
        http.get("/ai/llm/stats")
        http.get("/openapi.json")
    return seen


def assert_nowhere(canary: str, key_canary: str, seen: list[bytes],
                   snapshots: dict[str, bytes]) -> None:
    for payload in seen:
        assert canary.encode() not in payload
        assert key_canary.encode() not in payload
        assert key_canary[:-4].encode() not in payload
    for name, content in snapshots.items():
        for needle in (canary, key_canary):
            assert needle.encode() not in content, name
            assert needle.encode("utf-16-le") not in content, name


def test_canary_appears_in_no_response_or_log(
    own_server: LocalServer, canary: str, key_canary: str
) -> None:
    seen = exercise(own_server, canary, key_canary)
    assert_nowhere(canary, key_canary, seen, {"server.log": own_server.log_path.read_bytes()})


@pytest.mark.sqlite_only
def test_canary_appears_in_no_file(own_server: LocalServer, canary: str,
                                   key_canary: str) -> None:
    seen = exercise(own_server, canary, key_canary)
    # The WAL holds every page written so far; then rotate, fold the WAL in, and look again.
    before = all_bytes_under(own_server.data_dir)
    assert "flashback.db-wal" in before
    assert admin.rotate_key(own_server.data_dir) == 2
    db = Database(own_server.data_dir)
    try:
        db.checkpoint()
    finally:
        db.close()

    files = all_bytes_under(own_server.data_dir)
    assert {"flashback.db", "master.key"} <= set(files)
    log = own_server.log_path.read_bytes()
    snapshots = {**{f"before/{k}": v for k, v in before.items()}, **files, "server.log": log}
    assert_nowhere(canary, key_canary, seen, snapshots)
