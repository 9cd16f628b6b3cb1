"""The audit trail over HTTP: paging, filters, visibility, read and unread marks.

Configuration events are written here with the store's own ``record`` (the same function
every change calls), so these tests are about reading them (context 11, ``aillm``); the tests
of each area check that its changes write exactly one event each.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from flashback_tui.server.sql import transaction
from flashback_tui.server.state import PlatformState
from flashback_tui.server.store import events as event_store


@pytest.fixture
def http(platform: Any) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=platform.url, timeout=10) as client:
        yield client


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def write_events(data_dir: Any, world: Any, count: int, *, workspace_id: str | None) -> None:
    with PlatformState.open(data_dir) as state:
        conn = state.db.conn()
        org_id = conn.execute("SELECT org_id FROM users WHERE id = ?",
                              (world.user_ids["ADMIN"],)).fetchone()[0]
        actor = event_store.Actor(id=world.user_ids["ADMIN"], org_id=org_id, name="Admin user",
                                  email=world.emails["ADMIN"])
        with transaction(conn):
            for n in range(count):
                event_store.record(conn, actor, context=event_store.AI_LLM,
                                   context_id=f"cfg-{n}", event=n % 3,
                                   workspace_id=workspace_id, changed=["endpoint", "secret"])


def page(http: httpx.Client, token: str, **body: Any) -> dict[str, Any]:
    answer = http.post("/systemevent", json={"skip": 0, "take": 50, "context": 11, **body},
                       headers=auth(token))
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_events_page_newest_first_with_the_contract_shape(http, platform, world) -> None:
    write_events(platform.data_dir, world, 5, workspace_id=world.workspace_id)
    result = page(http, world.tokens["READ"], workspaceId=world.workspace_id, take=2)
    assert set(result) == {"events", "total", "skip", "take"}
    assert result["total"] == 5 and result["take"] == 2 and len(result["events"]) == 2
    first, second = result["events"]
    assert first["id"] > second["id"]
    assert first["contextId"] == "cfg-4" and first["context"] == "aillm"
    assert first["event"] == ["created", "updated", "deleted"][4 % 3]
    assert json.loads(first["jsonData"]) == {"changed": ["endpoint", "secret"]}
    assert first["userEmail"] == world.emails["ADMIN"] and first["showUnread"] is True
    assert first["workspaceId"] == world.workspace_id
    assert first["timestamp"].endswith("Z")


def test_filters_and_take_is_at_most_100(http, platform, world) -> None:
    write_events(platform.data_dir, world, 4, workspace_id=world.workspace_id)
    token = world.tokens["ADMIN"]
    ws = world.workspace_id
    assert page(http, token, workspaceId=ws, contextId="cfg-1")["total"] == 1
    assert page(http, token, workspaceId=ws, event=0)["total"] == 2
    assert page(http, token, workspaceId=ws, context=3)["total"] == 0
    members = page(http, token, workspaceId=ws, context=5)  # the world's members, added
    assert members["total"] == 3 and {e["context"] for e in members["events"]} == {
        "workspaceuser"}
    assert page(http, token, workspaceId=ws, userId=world.user_ids["ADMIN"])["total"] == 4
    assert page(http, token, workspaceId=ws, from_timestamp="2999-01-01T00:00:00.000Z"
                )["total"] == 0
    assert page(http, token, workspaceId=ws, to_timestamp="2000-01-01T00:00:00Z")["total"] == 0
    assert page(http, token, workspaceId=ws, take=1000)["take"] == 100
    bad = http.post("/systemevent", json={"skip": 0, "take": 5, "from_timestamp": "yesterday"},
                    headers=auth(token))
    assert bad.status_code == 400 and "from_timestamp" in bad.json()["message"]
    missing = http.post("/systemevent", json={"take": 5}, headers=auth(token))
    assert missing.status_code == 400 and "skip" in missing.json()["message"]


def test_outsiders_see_nothing_and_the_org_owner_sees_all(http, platform, world) -> None:
    write_events(platform.data_dir, world, 2, workspace_id=world.workspace_id)
    assert page(http, world.tokens["NONE"], workspaceId=world.workspace_id)["total"] == 0
    owner = page(http, platform.admin_token, workspaceId=world.workspace_id)
    assert owner["total"] == 2


def test_read_and_unread_marks_are_per_user(http, platform, world) -> None:
    write_events(platform.data_dir, world, 3, workspace_id=world.workspace_id)
    ws = world.workspace_id
    ids = [e["id"] for e in page(http, world.tokens["READ"], workspaceId=ws)["events"]]
    read = http.post("/systemevent/read", json={"ids": ids[:2]}, headers=auth(world.tokens["READ"]))
    assert read.status_code == 200 and read.json() == {"success": True}
    unread = page(http, world.tokens["READ"], workspaceId=ws, showUnread=True)
    assert [e["id"] for e in unread["events"]] == ids[2:]
    # Another member still has them all unread.
    assert page(http, world.tokens["WRITE"], workspaceId=ws, showUnread=True)["total"] == 3
    again = http.request("DELETE", "/systemevent/read", json={"id": ids[0]},
                         headers=auth(world.tokens["READ"]))
    assert again.status_code == 200
    assert page(http, world.tokens["READ"], workspaceId=ws, showUnread=True)["total"] == 2
    empty = http.post("/systemevent/read", json={}, headers=auth(world.tokens["READ"]))
    assert empty.status_code == 400
    # An outsider's marks change nothing it cannot see.
    http.post("/systemevent/read", json={"ids": ids}, headers=auth(world.tokens["NONE"]))
    assert page(http, world.tokens["WRITE"], workspaceId=ws, showUnread=True)["total"] == 3
