"""``member`` and ``events`` against the real local platform."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from flashback_tui.api.models import EVENT_CONTEXTS, EVENT_KINDS
from flashback_tui.commands import events as events_command
from flashback_tui.commands.common import ExitCode
from tests.cli.conftest import Cli
from tests.conftest import make_world

MEMBER_FIELDS = {"userId", "role", "user"}
EVENT_FIELDS = {"id", "timestamp", "contextId", "context", "event", "orgId", "userId",
                "userName", "userEmail", "workspaceId", "jsonData", "showUnread"}


def ok(result: Any) -> Any:
    assert result.exit_code == 0, result.output
    return result


def as_json(result: Any) -> Any:
    return json.loads(ok(result).stdout)


def roles(cli: Cli, workspace: str) -> dict[str, str]:
    return {m["user"]["email"]: m["role"] for m in
            as_json(cli("member", "list", workspace, "--json"))}


def test_member_list_add_role_remove_and_the_last_admin(
    cli: Cli, world: Any, platform: Any
) -> None:
    members = as_json(cli("member", "list", world.workspace_name, "--json"))
    assert all(set(m) == MEMBER_FIELDS for m in members)
    assert roles(cli, world.workspace_id)[world.emails["WRITE"]] == "WRITE"
    table = ok(cli("member", "list", world.workspace_name)).stdout
    assert table.splitlines()[0].split() == ["USER", "ID", "EMAIL", "NAME", "ROLE"]

    # Someone in another workspace of mine is found by e-mail; a stranger only by id.
    other = make_world(platform.data_dir)
    from flashback_tui.server import admin

    admin.add_member(platform.data_dir, other.workspace_id, world.emails["ADMIN"], "ADMIN")
    added = ok(cli("member", "add", world.workspace_name, other.emails["READ"], "--role",
                   "write"))
    assert added.stdout == "" and "as WRITE" in added.stderr
    unknown = cli("member", "add", world.workspace_name, world.emails["NONE"], "--role", "READ")
    assert unknown.exit_code == ExitCode.NOT_FOUND and "user id" in unknown.stderr
    ok(cli("member", "add", world.workspace_name, world.user_ids["NONE"], "--role", "READ"))
    assert roles(cli, world.workspace_name)[world.emails["NONE"]] == "READ"

    ok(cli("member", "role", world.workspace_name, world.emails["NONE"], "--role", "ADMIN"))
    assert roles(cli, world.workspace_name)[world.emails["NONE"]] == "ADMIN"
    assert cli("member", "remove", world.workspace_name, world.emails["NONE"]).exit_code == 2
    ok(cli("member", "remove", world.workspace_name, world.emails["NONE"], "--yes"))
    assert world.emails["NONE"] not in roles(cli, world.workspace_name)
    gone = cli("member", "role", world.workspace_name, world.emails["NONE"], "--role", "READ")
    assert gone.exit_code == ExitCode.NOT_FOUND

    # The last ADMIN stays, and says why.
    ok(cli("member", "remove", world.workspace_name, other.emails["READ"], "--yes"))
    last = cli("member", "remove", world.workspace_name, world.emails["ADMIN"], "--yes")
    assert last.exit_code in (ExitCode.FORBIDDEN, ExitCode.USAGE)
    assert "ADMIN" in last.stderr
    reader = cli.as_role(world.tokens["READ"])
    denied = reader("member", "role", world.workspace_name, world.emails["WRITE"], "--role",
                    "READ")
    assert denied.exit_code == ExitCode.FORBIDDEN
    assert cli("member", "list", "no-such-ws").exit_code == ExitCode.NOT_FOUND


def test_events_filters_paging_and_read_marks(
    cli: Cli, world: Any, create_llm: Callable[..., str], canary: str
) -> None:
    create_llm("audited", secret=canary)
    repo_id = ok(cli("repo", "create", "audited", "--workspace", world.workspace_name,
                    "--llm", "audited")).stdout.strip()
    ok(cli("repo", "update", repo_id, "--name", "audited-2"))
    base = ("events", "--workspace", world.workspace_name, "--context", "repo")
    rows = as_json(cli(*base, "--json"))
    assert [(e["event"], e["contextId"]) for e in rows] == [("updated", repo_id),
                                                            ("created", repo_id)]
    assert set(rows[0]) == EVENT_FIELDS
    assert "name" in json.loads(rows[0]["jsonData"])["changed"]
    assert as_json(cli(*base, "--event", "created", "--json"))[0]["event"] == "created"
    assert len(as_json(cli(*base, "--context-id", repo_id, "--json"))) == 2
    assert len(as_json(cli(*base, "--user", world.emails["ADMIN"], "--json"))) == 2
    assert as_json(cli(*base, "--user", world.user_ids["WRITE"], "--json")) == []
    assert len(as_json(cli(*base, "--since", "1h", "--json"))) == 2
    assert as_json(cli(*base, "--until", "2000-01-01", "--json")) == []
    limited = cli(*base, "--limit", "1", "--json")
    assert len(json.loads(ok(limited).stdout)) == 1 and "1 of 2" in limited.stderr

    ids = [str(e["id"]) for e in rows]
    assert all(e["showUnread"] for e in rows)
    ok(cli("events", "read", *ids))
    assert as_json(cli(*base, "--unread", "--json")) == []
    ok(cli("events", "unread", ids[0]))
    assert [str(e["id"]) for e in as_json(cli(*base, "--unread", "--json"))] == [ids[0]]
    table = ok(cli(*base)).stdout
    assert "CHANGED" in table.splitlines()[0] and "name" in table
    assert cli("events", "read", "x").exit_code == ExitCode.USAGE
    assert cli("events", "--context", "nothing").exit_code == ExitCode.USAGE
    for text in (json.dumps(rows), table):
        assert canary not in text


def test_the_cli_names_the_contexts_and_kinds_of_the_contract() -> None:
    assert events_command.CONTEXTS == EVENT_CONTEXTS
    assert events_command.KINDS == EVENT_KINDS
