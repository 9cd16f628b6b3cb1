"""``/healthz``: whether this server can answer, for load balancers and supervisors.

No authentication and no data: 200 ``{"success": true, "database": "ok"}`` when a read of
the database answers, else 503 with what failed in a few plain words (never a URL, a host,
a path or a secret). A connection the database dropped (a restart, a fail-over) is replaced
on the spot (see :meth:`sql.Conn._send`), so the first check after it is back answers 200.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import SQLAlchemyError

from flashback_tui.server.db import database_failure
from flashback_tui.server.deps import State

router = APIRouter(tags=["Health"])

#: The read that proves the database answers (one row that always exists).
_PROBE = "SELECT value FROM change_counter WHERE id = 1"


class Health(BaseModel):
    """Answer of ``GET /healthz``."""

    success: bool
    database: str


@router.get("/healthz", response_model=Health, summary="Whether the server and its database answer",
            responses={503: {"model": Health, "description": "the database does not answer"}})
def healthz(state: State) -> Health | JSONResponse:
    """A one-row read of the database; 503 when it fails."""
    try:
        state.db.conn().execute(_PROBE).fetchone()
    except SQLAlchemyError as exc:
        return JSONResponse({"success": False, "database": database_failure(exc, detail=False)},
                            status_code=503)
    return Health(success=True, database="ok")
