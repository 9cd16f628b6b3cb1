"""``flashback-tui workspaces`` against the real local platform."""

from __future__ import annotations

import json
from typing import Any

from tests.cli.conftest import Cli


def test_workspaces_table_lists_the_callers_workspaces(cli: Cli, world: Any) -> None:
    result = cli("workspaces")
    assert result.exit_code == 0, result.stderr
    header, *rows = result.stdout.splitlines()
    assert header.split() == ["ID", "NAME", "MEMBERS"]
    mine = next(row for row in rows if row.startswith(world.workspace_id))
    assert world.workspace_name in mine
    assert mine.split()[-1] == "3"  # READ, WRITE and ADMIN members


def test_workspaces_json_is_the_wire_shape(cli: Cli, world: Any) -> None:
    result = cli("workspaces", "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    mine = next(item for item in data if item["id"] == world.workspace_id)
    assert set(mine) == {"id", "name", "orgId", "users"}
    assert mine["name"] == world.workspace_name
    roles = {member["user"]["email"]: member["role"] for member in mine["users"]}
    assert roles == {world.emails[role]: role for role in ("READ", "WRITE", "ADMIN")}
    assert set(mine["users"][0]) == {"userId", "role", "user"}


def test_a_user_in_no_workspace_sees_an_empty_list(cli: Cli, world: Any) -> None:
    result = cli.as_role(world.tokens["NONE"])("workspaces", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == []


def test_a_user_in_no_workspace_is_told_so_in_the_table_form(cli: Cli, world: Any) -> None:
    result = cli.as_role(world.tokens["NONE"])("workspaces")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert "You belong to no workspace" in result.stderr
