"""The user calls over HTTP: the profile ("me"), a user's org role, and users of another org.

Also that ``admin user add`` records one USER event.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from flashback_tui.server import admin
from flashback_tui.server.state import PlatformState
from flashback_tui.server.store import base as store_base


@pytest.fixture
def http(platform: Any) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=platform.url, timeout=10) as client:
        yield client


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def stranger(platform: Any) -> str:
    """A user of a second org in the same data dir (the local platform makes only one)."""
    org_id, user_id = store_base.new_id(), store_base.new_id()
    with PlatformState.open(platform.data_dir) as state:
        conn = state.db.conn()
        conn.execute("INSERT INTO orgs (id, name, created_at) VALUES (?, 'Elsewhere', ?)",
                     (org_id, store_base.now_iso()))
        conn.execute("INSERT INTO users (id, org_id, email, name, last_name, org_role,"
                     " created_at) VALUES (?, ?, ?, 'Stranger', '', 255, ?)",
                     (user_id, org_id, f"stranger-{user_id[:8]}@example.test",
                      store_base.now_iso()))
    return user_id


def test_the_profile_of_the_owner(http: httpx.Client, platform: Any) -> None:
    answer = http.get("/user/profile", headers=auth(platform.admin_token))
    assert answer.status_code == 200
    body = answer.json()
    data = body["data"]
    assert body == {"success": True, "data": {
        "id": data["id"], "name": "Local admin", "lastName": "", "email": "admin@localhost",
        "orgId": data["orgId"], "orgRole": 255, "orgRoleDescription": "Owner",
        "orgRoles": [255], "validated": True, "mfaRequired": False, "isBusiness": False}}


@pytest.mark.parametrize(("role", "description"), [
    ("USER", "User"), ("BILLING", "Billing"), ("WORKSPACES", "Workspaces"),
    ("ADMINISTRATORS", "Administrators"),
])
def test_the_profile_names_each_org_role(http: httpx.Client, platform: Any, role: str,
                                         description: str) -> None:
    email = f"{role.lower()}-{uuid.uuid4().hex[:6]}@example.test"
    admin.add_user(platform.data_dir, email, org_role=role)
    token = admin.create_token(platform.data_dir, email)
    data = http.get("/user/profile", headers=auth(token)).json()["data"]
    assert data["orgRoleDescription"] == description
    assert data["name"] == "" and data["email"] == email


def test_the_profile_needs_a_token(http: httpx.Client) -> None:
    answer = http.get("/user/profile")
    assert answer.status_code == 401 and answer.json()["success"] is False


def test_any_org_member_looks_up_users_of_the_org(http: httpx.Client, platform: Any,
                                                  world: Any) -> None:
    owner_id = http.get("/user/profile", headers=auth(platform.admin_token)).json()["data"]["id"]
    answer = http.get(f"/user/{owner_id}", headers=auth(world.tokens["NONE"]))
    assert answer.status_code == 200
    assert answer.json() == {"success": True, "data": {
        "userId": owner_id, "orgRole": 255, "orgRoleDescription": "Owner",
        "orgRoles": [255]}}
    me = http.get(f"/user/{world.user_ids['READ']}", headers=auth(world.tokens["READ"])).json()
    assert me["data"] == {"userId": world.user_ids["READ"], "orgRole": 0,
                          "orgRoleDescription": "User", "orgRoles": [0]}


def test_unknown_users_and_users_of_other_orgs_are_404(http: httpx.Client, platform: Any,
                                                       world: Any, stranger: str) -> None:
    for user_id in (str(uuid.uuid4()), stranger):
        answer = http.get(f"/user/{user_id}", headers=auth(platform.admin_token))
        assert answer.status_code == 404
        assert answer.json() == {"success": False, "message": "user not found",
                                 "error": "NOT_FOUND"}
    # Nor can a stranger be added to a workspace.
    added = http.post(f"/workspace/{world.workspace_id}/users",
                      json={"userId": stranger, "role": "READ"},
                      headers=auth(platform.admin_token))
    assert added.status_code == 404 and added.json()["message"] == "user not found"


def test_admin_user_add_records_one_user_event(platform: Any) -> None:
    with PlatformState.open(platform.data_dir) as state:
        mark = state.db.conn().execute("SELECT COALESCE(MAX(id), 0) FROM system_events"
                                       ).fetchone()[0]
    user_id = admin.add_user(platform.data_dir, f"ev-{uuid.uuid4().hex[:6]}@example.test",
                             password="pass phrase 3", org_role="WORKSPACES")
    with PlatformState.open(platform.data_dir) as state:
        rows = state.db.conn().execute("SELECT * FROM system_events WHERE id > ?",
                                       (mark,)).fetchall()
    assert len(rows) == 1
    (row,) = rows
    assert (row["context"], row["event"], row["context_id"]) == (3, 0, user_id)
    owner = httpx.get(f"{platform.url}/user/profile",
                      headers={"Authorization": f"Bearer {platform.admin_token}"})
    assert row["user_id"] == owner.json()["data"]["id"]  # admin commands act as the OWNER
    assert json.loads(row["json_data"]) == {"changed": ["email", "name", "orgRole",
                                                        "password"]}
    assert "pass phrase" not in (row["json_data"] or "")
