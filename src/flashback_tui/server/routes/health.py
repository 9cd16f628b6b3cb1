"""``/healthz``: whether this server can answer, for load balancers and supervisors.

No authentication and no data: 200 ``{"success": true, "database": "ok"}`` when a read of
the database answers, else 503 with what failed (never a path or a secret).
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from flashback_tui.server.deps import State
from flashback_tui.server.sql import DBAPIError

router = APIRouter(tags=["Health"])


class Health(BaseModel):
    """Answer of ``GET /healthz``."""

    success: bool
    database: str


@router.get("/healthz", response_model=Health, summary="Whether the server and its database answer",
            responses={503: {"model": Health, "description": "the database does not answer"}})
def healthz(state: State) -> Health | JSONResponse:
    """A one-row read of the database; 503 when it fails."""
    try:
        state.db.conn().execute("SELECT value FROM change_counter WHERE id = 1").fetchone()
    except DBAPIError as exc:
        failure = type(exc.orig).__name__ if exc.orig is not None else type(exc).__name__
        return JSONResponse({"success": False, "database": failure}, status_code=503)
    return Health(success=True, database="ok")
