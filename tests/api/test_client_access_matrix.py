"""The access matrix: every endpoint x every kind of caller, through the real client.

Callers are the ``world`` users: ``NONE`` (member of no workspace), ``READ``, ``WRITE``,
``ADMIN``, plus ``INVALID`` (a token the server never issued). READ may list, view stats and
validate; WRITE and ADMIN may also create, update and delete; a non-member gets 404 for
anything in the workspace and finds nothing of it in lists; a bad token gets 401 everywhere.

Each cell answers with an outcome: an HTTP status for a call on one item, or ``SEEN`` /
``HIDDEN`` for a list call (whether the target shows up in it). One test per endpoint checks
its whole row, so a failure shows every caller's outcome at once. Refused writes are checked
to have changed nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from flashback_tui.api.client import FlashbackClient
from flashback_tui.api.errors import FlashbackError
from flashback_tui.api.models import AiLlmCreate, AiLlmUpdate, AiType

WRITES = ("create", "update", "delete")
SEEN, HIDDEN = "SEEN", "HIDDEN"
OK = 200


@dataclass
class Cell:
    """One call of the matrix: who calls, on which configuration, in which workspace."""

    client: FlashbackClient
    owner: FlashbackClient
    config_id: str
    workspace_id: str
    role: str


def seen(ids: list[str], target: str) -> str:
    return SEEN if target in ids else HIDDEN


async def run_create(cell: Cell) -> str | int:
    body = AiLlmCreate(
        name=f"matrix-new-{cell.role}", ai_type=AiType.OPENAI, workspace_id=cell.workspace_id
    )
    await cell.client.create_ai_llm(body)
    return OK


async def run_list_workspace(cell: Cell) -> str | int:
    answer = await cell.client.get_ai_llms(cell.workspace_id)
    return seen([c.id for c in answer.ai_llms], cell.config_id)


async def run_list_all(cell: Cell) -> str | int:
    answer = await cell.client.get_ai_llms()
    return seen([c.id for c in answer.ai_llms], cell.config_id)


async def run_available(cell: Cell) -> str | int:
    answer = await cell.client.get_available_ai_llms()
    return seen([c.id for c in answer.ai_llms], cell.config_id)


async def run_update(cell: Cell) -> str | int:
    await cell.client.update_ai_llm(cell.config_id, AiLlmUpdate(name=f"matrix-renamed-{cell.role}"))
    return OK


async def run_delete(cell: Cell) -> str | int:
    await cell.client.delete_ai_llm(cell.config_id)
    return OK


async def run_validate(cell: Cell) -> str | int:
    await cell.client.validate_ai_llm(cell.config_id)
    return OK


async def run_stats_one(cell: Cell) -> str | int:
    answer = await cell.client.get_ai_llm_stats(cell.config_id)
    return seen([s.ai_llm_id for s in answer.stats], cell.config_id)


async def run_stats_all(cell: Cell) -> str | int:
    answer = await cell.client.get_ai_llm_stats()
    return seen([s.ai_llm_id for s in answer.stats], cell.config_id)


async def run_usage_minute(cell: Cell) -> str | int:
    await cell.client.get_ai_stats_minute(ai_llm_ids=[cell.config_id])
    return OK


async def run_usage_daily(cell: Cell) -> str | int:
    await cell.client.get_ai_stats_daily(ai_llm_ids=[cell.config_id])
    return OK


async def run_workspace(cell: Cell) -> str | int:
    await cell.client.get_workspace(cell.workspace_id)
    return OK


async def run_workspaces(cell: Cell) -> str | int:
    answer = await cell.client.get_workspaces()
    return seen([w.id for w in answer.workspaces], cell.workspace_id)


def row(none: Any, read: Any, write: Any, admin: Any) -> dict[str, Any]:
    return {"NONE": none, "READ": read, "WRITE": write, "ADMIN": admin, "INVALID": 401}


#: endpoint -> (runner, expected outcome per role)
MATRIX: dict[str, tuple[Callable[[Cell], Awaitable[str | int]], dict[str, Any]]] = {
    "create": (run_create, row(404, 403, OK, OK)),
    "list_workspace": (run_list_workspace, row(404, SEEN, SEEN, SEEN)),
    "list_all": (run_list_all, row(HIDDEN, SEEN, SEEN, SEEN)),
    "available": (run_available, row(HIDDEN, SEEN, SEEN, SEEN)),
    "update": (run_update, row(404, 403, OK, OK)),
    "delete": (run_delete, row(404, 403, OK, OK)),
    "validate": (run_validate, row(404, OK, OK, OK)),
    "stats_one": (run_stats_one, row(404, SEEN, SEEN, SEEN)),
    "stats_all": (run_stats_all, row(HIDDEN, SEEN, SEEN, SEEN)),
    "usage_minute": (run_usage_minute, row(404, OK, OK, OK)),
    "usage_daily": (run_usage_daily, row(404, OK, OK, OK)),
    "workspace": (run_workspace, row(404, OK, OK, OK)),
    "workspaces": (run_workspaces, row(HIDDEN, SEEN, SEEN, SEEN)),
}


async def outcome_of(runner: Callable[[Cell], Awaitable[str | int]], cell: Cell) -> str | int:
    """What the call answered: the runner's outcome, or the status of the refusal."""
    try:
        return await runner(cell)
    except FlashbackError as exc:
        assert exc.message, "every refusal carries the server's reason"
        return exc.status or 0


async def workspace_contents(cell: Cell) -> list[tuple[str, str]]:
    configs = (await cell.owner.get_ai_llms(cell.workspace_id)).ai_llms
    return sorted((c.id, c.name) for c in configs)


@pytest.mark.parametrize("endpoint", MATRIX)
async def test_access(endpoint: str, clients, new_config, world) -> None:
    """One row of the matrix: the endpoint called by every kind of caller."""
    runner, expected = MATRIX[endpoint]
    owner = clients("ADMIN")
    target = await new_config(owner, name=f"matrix-{endpoint}")
    if endpoint == "available":
        assert (await owner.validate_ai_llm(target)).success

    def cell(role: str, config_id: str = target) -> Cell:
        return Cell(client=clients(role), owner=owner, config_id=config_id,
                    workspace_id=world.workspace_id, role=role)

    observed: dict[str, str | int] = {}
    before = await workspace_contents(cell("ADMIN"))
    for role in ("INVALID", "NONE", "READ"):
        observed[role] = await outcome_of(runner, cell(role))
    if endpoint in WRITES:
        assert await workspace_contents(cell("ADMIN")) == before, "a refused write left a trace"
    for role in ("WRITE", "ADMIN"):
        # Each successful update or delete gets its own configuration to work on.
        victim = await new_config(owner) if endpoint in ("update", "delete") else target
        observed[role] = await outcome_of(runner, cell(role, victim))
    assert observed == expected
