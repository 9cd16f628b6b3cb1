"""One router per API area, and the one list of them all (:func:`all_routers`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import APIRouter


def all_routers() -> list[APIRouter]:
    """Every router of the management API, in the order they are matched.

    Imported here, on first use, so that importing the package costs nothing.
    """
    from flashback_tui.server import gateway
    from flashback_tui.server.routes import (
        ai_llm,
        events,
        health,
        models,
        policies,
        repos,
        stats,
        users,
        workspaces,
    )

    modules = (ai_llm, models, workspaces, users, stats, events, repos, policies, health,
               gateway)
    return [module.router for module in modules]
