"""The access matrix: every endpoint x every kind of caller, through the real client.

Callers are the ``world`` users: ``NONE`` (member of no workspace), ``READ``, ``WRITE``,
``ADMIN``, plus ``INVALID`` (a token the server never issued). READ may list, view stats and
validate; WRITE and ADMIN may also create, update and delete; a non-member gets 404 for
anything in the workspace and finds nothing of it in lists; a bad token gets 401 everywhere.

Each cell answers with an outcome: an HTTP status for a call on one item, or ``SEEN`` /
``HIDDEN`` for a list call (whether the target shows up in it). Refused writes are checked to
have changed nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from flashback_tui.api.client import FlashbackClient
from flashback_tui.api.errors import FlashbackError
from flashback_tui.api.models import AiLlmCreate, AiLlmUpdate, AiType

ROLES = ("NONE", "READ", "WRITE", "ADMIN", "INVALID")
SEEN, HIDDEN = "SEEN", "HIDDEN"
OK = 200


@dataclass
class Cell:
    """What one matrix test works on: the target configuration and its workspace."""

    client: FlashbackClient
    owner: FlashbackClient
    config_id: str
    workspace_id: str
    name: str


def seen(ids: list[str], target: str) -> str:
    return SEEN if target in ids else HIDDEN


async def run_create(cell: Cell) -> str | int:
    body = AiLlmCreate(name="matrix-new", ai_type=AiType.OPENAI, workspace_id=cell.workspace_id)
    await cell.client.create_ai_llm(body)
    return OK


async def run_list_workspace(cell: Cell) -> str | int:
    answer = await cell.client.get_ai_llms(cell.workspace_id)
    return seen([c.id for c in answer.ai_llms], cell.config_id)


async def run_list_all(cell: Cell) -> str | int:
    answer = await cell.client.get_ai_llms()
    return seen([c.id for c in answer.ai_llms], cell.config_id)


async def run_available(cell: Cell) -> str | int:
    assert (await cell.owner.validate_ai_llm(cell.config_id)).success
    answer = await cell.client.get_available_ai_llms()
    return seen([c.id for c in answer.ai_llms], cell.config_id)


async def run_update(cell: Cell) -> str | int:
    await cell.client.update_ai_llm(cell.config_id, AiLlmUpdate(name="matrix-renamed"))
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


async def check_nothing_changed(endpoint: str, cell: Cell) -> None:
    """After a refused write, the workspace holds exactly what it held before."""
    configs = (await cell.owner.get_ai_llms(cell.workspace_id)).ai_llms
    assert [(c.id, c.name) for c in configs] == [(cell.config_id, cell.name)], endpoint


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", MATRIX)
async def test_access(endpoint: str, role: str, clients, new_config, world) -> None:
    runner, expected = MATRIX[endpoint]
    owner = clients("ADMIN")
    name = f"matrix-{endpoint}"
    cell = Cell(
        client=clients(role),
        owner=owner,
        config_id=await new_config(owner, name=name),
        workspace_id=world.workspace_id,
        name=name,
    )
    try:
        outcome = await runner(cell)
    except FlashbackError as exc:
        outcome = exc.status
        assert exc.message, "every refusal carries the server's reason"
    assert outcome == expected[role], f"{endpoint} as {role}"
    if isinstance(outcome, int) and outcome >= 400 and endpoint in ("create", "update", "delete"):
        await check_nothing_changed(endpoint, cell)
