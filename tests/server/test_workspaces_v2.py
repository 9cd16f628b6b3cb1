"""Workspaces and members over HTTP: who may create, rename, delete and manage members, the
last-ADMIN guard, the answers' shapes, and one system event per change.

The ``world`` users are org USERs; the platform's admin token is the org OWNER's.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from flashback_tui.server import admin
from flashback_tui.server.state import PlatformState

WORKSPACE_CONTEXT, WORKSPACE_USER_CONTEXT = 0, 5
CREATED, UPDATED, DELETED = 0, 1, 2


@pytest.fixture
def http(platform: Any) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=platform.url, timeout=10) as client:
        yield client


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_error(answer: httpx.Response, status: int, *fragments: str) -> None:
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert set(body) == {"success", "message"} and body["success"] is False
    for fragment in fragments:
        assert fragment in body["message"], body["message"]


class Events:
    """The system events written to a data dir after this object was made."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.mark = self._rows(0)[-1]["id"] if self._rows(0) else 0

    def _rows(self, after: int) -> list[dict[str, Any]]:
        with PlatformState.open(self.data_dir) as state:
            rows = state.db.conn().execute(
                "SELECT * FROM system_events WHERE id > ? ORDER BY id", (after,)).fetchall()
        return [dict(row) for row in rows]

    def new(self) -> list[dict[str, Any]]:
        """Events since the mark (and move the mark past them)."""
        rows = self._rows(self.mark)
        if rows:
            self.mark = rows[-1]["id"]
        return rows

    def one(self, **expected: Any) -> dict[str, Any]:
        """Exactly one new event, with these column values."""
        rows = self.new()
        assert len(rows) == 1, rows
        (row,) = rows
        for column, value in expected.items():
            got = json.loads(row[column]) if column == "json_data" and row[column] else row[column]
            assert got == value, (column, got)
        return row


def new_name() -> str:
    return f"team-{uuid.uuid4().hex[:8]}"


# -- create ----------------------------------------------------------------------------------


def test_the_owner_creates_a_workspace_and_becomes_its_admin(http: httpx.Client,
                                                             platform: Any) -> None:
    events = Events(platform.data_dir)
    name = new_name()
    answer = http.post("/workspace", json={"name": f"  {name} "},
                       headers=auth(platform.admin_token))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    workspace = body["workspace"]
    assert body == {"success": True,
                    "workspace": {"id": workspace["id"], "name": name,
                                  "orgId": workspace["orgId"]}}
    event = events.one(context=WORKSPACE_CONTEXT, event=CREATED, context_id=workspace["id"],
                       workspace_id=workspace["id"], user_email="admin@localhost",
                       json_data={"changed": ["name"]})
    assert event["org_id"] == workspace["orgId"]

    one = http.get(f"/workspace/{workspace['id']}", headers=auth(platform.admin_token)).json()
    (member,) = one["workspace"]["users"]
    assert member["role"] == "ADMIN"
    assert member["user"] == {"id": member["userId"], "name": "Local admin", "lastName": "",
                              "email": "admin@localhost", "orgRole": 255}
    listed = http.get("/workspace", headers=auth(platform.admin_token)).json()["workspaces"]
    assert workspace["id"] in [w["id"] for w in listed]


def test_a_user_cannot_create_a_workspace(http: httpx.Client, platform: Any,
                                          world: Any) -> None:
    events = Events(platform.data_dir)
    for role in ("READ", "ADMIN", "NONE"):
        assert_error(http.post("/workspace", json={"name": new_name()},
                               headers=auth(world.tokens[role])), 403, "OWNER")
    assert events.new() == []


@pytest.mark.parametrize(("body", "fragment"), [
    ({}, "name"), ({"name": ""}, "name"), ({"name": "   "}, "name"), ({"name": 5}, "name"),
    ({"name": None}, "name"), ({"name": "n" * 300}, "name"),
])
def test_bad_create_bodies_are_400(http: httpx.Client, platform: Any, body: dict[str, Any],
                                   fragment: str) -> None:
    assert_error(http.post("/workspace", json=body, headers=auth(platform.admin_token)), 400,
                 fragment)


def test_names_are_unique_in_the_org_in_any_letter_case(http: httpx.Client, platform: Any,
                                                        world: Any) -> None:
    events = Events(platform.data_dir)
    for name in (world.workspace_name, world.workspace_name.upper(), "default"):
        assert_error(http.post("/workspace", json={"name": name},
                               headers=auth(platform.admin_token)), 400, "already exists")
    assert events.new() == []


# -- read ------------------------------------------------------------------------------------


def test_members_see_their_workspace_and_org_admins_see_any(http: httpx.Client, platform: Any,
                                                           world: Any) -> None:
    path = f"/workspace/{world.workspace_id}"
    member = http.get(path, headers=auth(world.tokens["READ"])).json()["workspace"]
    assert {m["user"]["email"]: m["role"] for m in member["users"]} == {
        world.emails[r]: r for r in ("READ", "WRITE", "ADMIN")}
    assert all(m["user"]["orgRole"] == 0 and m["user"]["lastName"] == ""
               for m in member["users"])
    owner = http.get(path, headers=auth(platform.admin_token))
    assert owner.status_code == 200 and owner.json()["workspace"] == member
    assert_error(http.get(path, headers=auth(world.tokens["NONE"])), 404)
    # The list holds the caller's own workspaces only, so each carries the caller's role.
    owned = http.get("/workspace", headers=auth(platform.admin_token)).json()["workspaces"]
    assert world.workspace_id not in [w["id"] for w in owned]


# -- rename ----------------------------------------------------------------------------------


def test_only_org_admins_rename(http: httpx.Client, platform: Any, world: Any) -> None:
    events = Events(platform.data_dir)
    path = f"/workspace/{world.workspace_id}"
    owner = auth(platform.admin_token)
    renamed = new_name()
    answer = http.put(path, json={"name": renamed}, headers=owner)
    assert answer.json() == {"success": True, "workspace": {
        "id": world.workspace_id, "name": renamed, "orgId": answer.json()["workspace"]["orgId"]}}
    events.one(context=WORKSPACE_CONTEXT, event=UPDATED, context_id=world.workspace_id,
               json_data={"changed": ["name"]})

    # Nothing to change: same answer, no event.
    same = http.put(path, json={}, headers=owner)
    assert same.status_code == 200 and same.json()["workspace"]["name"] == renamed
    assert http.put(path, json={"name": renamed.upper()}, headers=owner
                    ).json()["workspace"]["name"] == renamed.upper()  # letter case: a rename
    events.one(context=WORKSPACE_CONTEXT, event=UPDATED)

    # A workspace ADMIN who is an org USER manages members, but does not rename.
    assert_error(http.put(path, json={"name": "x"}, headers=auth(world.tokens["ADMIN"])), 403)
    assert_error(http.put(path, json={"name": "x"}, headers=auth(world.tokens["WRITE"])), 403)
    assert_error(http.put(path, json={"name": "x"}, headers=auth(world.tokens["NONE"])), 404)
    assert_error(http.put(path, json={"name": None}, headers=owner), 400, "name")
    assert_error(http.put(path, json={"name": "Default"}, headers=owner), 400, "already exists")
    assert events.new() == []


# -- delete ----------------------------------------------------------------------------------


def test_delete_is_for_org_admins_and_only_when_empty(http: httpx.Client, platform: Any,
                                                      world: Any) -> None:
    path = f"/workspace/{world.workspace_id}"
    created = http.post("/ai/llm", headers=auth(world.tokens["WRITE"]), json={
        "name": "busy", "aiType": "OPENAI", "secret": "sk-ws-delete",
        "workspaceId": world.workspace_id})
    assert created.status_code == 200, created.text
    llm_id = created.json()["aiLlmId"]
    events = Events(platform.data_dir)

    assert_error(http.delete(path, headers=auth(world.tokens["ADMIN"])), 403, "OWNER")
    assert_error(http.delete(path, headers=auth(world.tokens["NONE"])), 404)
    assert_error(http.delete(path, headers=auth(platform.admin_token)), 403,
                 "still holds 1 configuration")
    assert events.new() == []

    assert http.delete(f"/ai/llm/{llm_id}",
                       headers=auth(world.tokens["WRITE"])).status_code == 200
    events.new()  # the configuration's own event
    deleted = http.delete(path, headers=auth(platform.admin_token))
    assert deleted.status_code == 200 and deleted.json() == {"success": True}
    events.one(context=WORKSPACE_CONTEXT, event=DELETED, context_id=world.workspace_id,
               json_data=None)
    assert_error(http.get(path, headers=auth(world.tokens["ADMIN"])), 404)
    assert_error(http.delete(path, headers=auth(platform.admin_token)), 404)


def test_delete_is_refused_while_a_repository_is_left(http: httpx.Client, platform: Any,
                                                      world: Any) -> None:
    llm_id = http.post("/ai/llm", headers=auth(world.tokens["WRITE"]), json={
        "name": "linked", "aiType": "OPENAI", "secret": "sk-ws-repo",
        "workspaceId": world.workspace_id}).json()["aiLlmId"]
    admin.add_repo(platform.data_dir, "docs-bot", world.workspace_name, llm_id)
    assert_error(http.delete(f"/workspace/{world.workspace_id}",
                             headers=auth(platform.admin_token)), 403,
                 "1 configuration and 1 repository")


# -- members ---------------------------------------------------------------------------------


def members(http: httpx.Client, world: Any) -> dict[str, str]:
    answer = http.get(f"/workspace/{world.workspace_id}", headers=auth(world.tokens["ADMIN"]))
    return {m["userId"]: m["role"] for m in answer.json()["workspace"]["users"]}


def test_a_workspace_admin_adds_changes_and_removes_members(http: httpx.Client, platform: Any,
                                                            world: Any) -> None:
    events = Events(platform.data_dir)
    base = f"/workspace/{world.workspace_id}/users"
    newcomer = world.user_ids["NONE"]
    headers = auth(world.tokens["ADMIN"])

    added = http.post(base, json={"userId": newcomer, "role": "READ"}, headers=headers)
    assert added.status_code == 200 and added.json() == {"success": True}
    events.one(context=WORKSPACE_USER_CONTEXT, event=CREATED, context_id=newcomer,
               workspace_id=world.workspace_id, json_data={"changed": ["role", "userId"]})
    assert members(http, world)[newcomer] == "READ"
    assert http.get(f"/workspace/{world.workspace_id}",
                    headers=auth(world.tokens["NONE"])).status_code == 200

    changed = http.put(f"{base}/{newcomer}", json={"role": "WRITE"}, headers=headers)
    assert changed.json() == {"success": True}
    events.one(context=WORKSPACE_USER_CONTEXT, event=UPDATED, context_id=newcomer,
               workspace_id=world.workspace_id, json_data={"changed": ["role"]})
    assert members(http, world)[newcomer] == "WRITE"
    assert http.put(f"{base}/{newcomer}", json={"role": "WRITE"},
                    headers=headers).status_code == 200
    assert events.new() == []  # the same role again changes nothing

    removed = http.delete(f"{base}/{newcomer}", headers=headers)
    assert removed.json() == {"success": True}
    events.one(context=WORKSPACE_USER_CONTEXT, event=DELETED, context_id=newcomer,
               workspace_id=world.workspace_id)
    assert newcomer not in members(http, world)
    assert_error(http.get(f"/workspace/{world.workspace_id}",
                          headers=auth(world.tokens["NONE"])), 404)


def test_the_owner_manages_members_of_a_workspace_it_is_not_in(http: httpx.Client,
                                                               platform: Any,
                                                               world: Any) -> None:
    base = f"/workspace/{world.workspace_id}/users"
    headers = auth(platform.admin_token)
    assert http.put(f"{base}/{world.user_ids['READ']}", json={"role": "ADMIN"},
                    headers=headers).status_code == 200
    assert http.delete(f"{base}/{world.user_ids['WRITE']}", headers=headers).status_code == 200
    assert members(http, world) == {world.user_ids["READ"]: "ADMIN",
                                    world.user_ids["ADMIN"]: "ADMIN"}


def test_read_and_write_members_cannot_manage_members(http: httpx.Client, platform: Any,
                                                      world: Any) -> None:
    events = Events(platform.data_dir)
    base = f"/workspace/{world.workspace_id}/users"
    for role in ("READ", "WRITE"):
        headers = auth(world.tokens[role])
        assert_error(http.post(base, json={"userId": world.user_ids["NONE"], "role": "READ"},
                               headers=headers), 403, "ADMIN")
        assert_error(http.put(f"{base}/{world.user_ids['READ']}", json={"role": "ADMIN"},
                              headers=headers), 403)
        assert_error(http.delete(f"{base}/{world.user_ids['READ']}", headers=headers), 403)
    assert_error(http.post(base, json={"userId": world.user_ids["NONE"], "role": "READ"},
                           headers=auth(world.tokens["NONE"])), 404)
    assert events.new() == []


def test_the_last_admin_can_be_neither_removed_nor_demoted(http: httpx.Client, platform: Any,
                                                           world: Any) -> None:
    events = Events(platform.data_dir)
    base = f"/workspace/{world.workspace_id}/users"
    last = world.user_ids["ADMIN"]
    for headers in (auth(world.tokens["ADMIN"]), auth(platform.admin_token)):
        assert_error(http.delete(f"{base}/{last}", headers=headers), 403, "last ADMIN")
        assert_error(http.put(f"{base}/{last}", json={"role": "READ"}, headers=headers), 403,
                     "last ADMIN")
    assert events.new() == []

    # With a second ADMIN the first may step down.
    assert http.put(f"{base}/{world.user_ids['WRITE']}", json={"role": "ADMIN"},
                    headers=auth(world.tokens["ADMIN"])).status_code == 200
    assert http.put(f"{base}/{last}", json={"role": "READ"},
                    headers=auth(world.tokens["ADMIN"])).status_code == 200
    assert members(http, world)[last] == "READ"
    assert len(events.new()) == 2


def test_member_calls_check_the_user_and_the_body(http: httpx.Client, platform: Any,
                                                  world: Any) -> None:
    events = Events(platform.data_dir)
    base = f"/workspace/{world.workspace_id}/users"
    headers = auth(world.tokens["ADMIN"])
    assert_error(http.post(base, json={"userId": str(uuid.uuid4()), "role": "READ"},
                           headers=headers), 404, "user not found")
    assert_error(http.post(base, json={"userId": world.user_ids["READ"], "role": "WRITE"},
                           headers=headers), 400, "already a member")
    assert_error(http.post(base, json={"userId": world.user_ids["NONE"], "role": "OWNER"},
                           headers=headers), 400, "role: must be one of READ, WRITE, ADMIN")
    assert_error(http.post(base, json={"userId": world.user_ids["NONE"]}, headers=headers),
                 400, "role")
    assert_error(http.post(base, json={"role": "READ"}, headers=headers), 400, "userId")
    assert_error(http.put(f"{base}/{world.user_ids['NONE']}", json={"role": "READ"},
                          headers=headers), 404, "not a member")
    assert_error(http.put(f"{base}/{world.user_ids['READ']}", json={"role": "read"},
                          headers=headers), 400, "role")
    assert_error(http.delete(f"{base}/{world.user_ids['NONE']}", headers=headers), 404,
                 "not a member")
    assert_error(http.post(f"/workspace/{uuid.uuid4()}/users",
                           json={"userId": world.user_ids["NONE"], "role": "READ"},
                           headers=auth(platform.admin_token)), 404)
    assert events.new() == []


def http_owner_id(platform: Any) -> str:
    profile = httpx.get(f"{platform.url}/user/profile", headers=auth(platform.admin_token))
    return profile.json()["data"]["id"]


def test_admin_commands_record_one_event_per_change(platform: Any, world: Any) -> None:
    events = Events(platform.data_dir)
    ws_id = admin.add_workspace(platform.data_dir, new_name())
    owner = http_owner_id(platform)  # admin commands act as the org's first OWNER
    events.one(context=WORKSPACE_CONTEXT, event=CREATED, context_id=ws_id, user_id=owner)
    admin.add_member(platform.data_dir, ws_id, world.emails["NONE"], "ADMIN")
    events.one(context=WORKSPACE_USER_CONTEXT, event=CREATED, context_id=world.user_ids["NONE"],
               workspace_id=ws_id)
    admin.add_member(platform.data_dir, ws_id, world.emails["READ"], "READ")
    events.one(context=WORKSPACE_USER_CONTEXT, event=CREATED)
    admin.add_member(platform.data_dir, ws_id, world.emails["READ"], "WRITE")
    events.one(context=WORKSPACE_USER_CONTEXT, event=UPDATED, json_data={"changed": ["role"]})
    admin.remove_member(platform.data_dir, ws_id, world.emails["READ"])
    events.one(context=WORKSPACE_USER_CONTEXT, event=DELETED, context_id=world.user_ids["READ"])
