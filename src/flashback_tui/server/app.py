"""The FastAPI application of the local platform: factory, lifespan and error handlers.

Errors always answer ``{"success": false, "message": ...}``: request-validation failures are
400 naming the field (never 422), unexpected failures are 500 with a generic message and a
log line that names only the exception type.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from flashback_tui import __version__
from flashback_tui.server.cache import AnswerCache, ItemJsonCache
from flashback_tui.server.clock import SYSTEM, Clock
from flashback_tui.server.config import ServerSettings
from flashback_tui.server.crypto import CryptoError
from flashback_tui.server.limits import BodySizeLimit, HeaderLimits
from flashback_tui.server.retention import RetentionPolicy, run_periodically
from flashback_tui.server.state import PlatformState
from flashback_tui.server.store import base as store_base
from flashback_tui.server.throttle import LoginThrottle

logger = logging.getLogger("flashback_tui.server")



def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"success": False, "message": message}, status_code=status)


_STORE_STATUS: dict[type[store_base.StoreError], int] = {
    store_base.NotFound: 404,
    store_base.Conflict: 400,
    store_base.Invalid: 400,
    store_base.InUse: 403,
}


def describe_validation_error(errors: list[dict[str, Any]]) -> str:
    """``field: reason`` for the first few errors; never echoes the input."""
    parts = []
    for err in errors[:3]:
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path")]
        where = ".".join(loc) or "body"
        kind = err.get("type", "")
        if kind == "json_invalid":
            parts.append("body: malformed JSON")
            continue
        if kind == "missing" and where == "body":
            parts.append("body: a JSON object is required")
            continue
        if kind in ("model_attributes_type", "dict_type", "model_type"):
            parts.append(f"{where}: must be a JSON object")
            continue
        reason = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
        reason = reason.removeprefix(f"{loc[-1]} " if loc else "")  # "aiType: aiType must..."
        parts.append(f"{where}: {reason}")
    return "; ".join(parts)


class UnexpectedErrors:
    """Answer any unhandled exception with a generic 500 and log only its type.

    It sits inside Starlette's outermost error middleware, which would otherwise log a full
    traceback (whose messages could come from any library) and drop the connection.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            where = f"{scope.get('method', '')} {scope.get('path', '')}"
            if isinstance(exc, CryptoError):  # its messages are written to be shown
                logger.error("cannot open a sealed secret on %s: %s", where, exc)
                message = "a stored secret cannot be decrypted with the current keys"
            else:
                logger.error("unexpected %s on %s", type(exc).__name__, where)
                message = "internal server error"
            if not started:
                await _error(500, message)(scope, receive, send)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def on_validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        return _error(400, describe_validation_error(list(exc.errors())))

    @app.exception_handler(StarletteHTTPException)
    async def on_http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        response = _error(exc.status_code, str(exc.detail))
        if exc.headers:
            response.headers.update(exc.headers)
        return response

    @app.exception_handler(store_base.StoreError)
    async def on_store_error(request: Request, exc: store_base.StoreError) -> JSONResponse:
        return _error(_STORE_STATUS.get(type(exc), 400), str(exc))

    @app.exception_handler(json.JSONDecodeError)
    async def on_bad_json(request: Request, exc: json.JSONDecodeError) -> JSONResponse:
        return _error(400, "body: malformed JSON")


def _openapi_without_422(app: FastAPI) -> None:
    """Describe the real contract: validation failures are 400 ErrorResponse, never 422."""
    from fastapi.openapi.utils import get_openapi

    from flashback_tui.server.openapi import complete

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version,
                                 description=app.description, routes=app.routes,
                                 separate_input_output_schemas=app.separate_input_output_schemas)
            for path in schema.get("paths", {}).values():
                for operation in path.values():
                    operation.get("responses", {}).pop("422", None)
            schemas = schema.get("components", {}).get("schemas", {})
            schemas.pop("HTTPValidationError", None)
            schemas.pop("ValidationError", None)
            app.openapi_schema = complete(schema)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


#: Seconds after start-up when the outbound HTTP stack is loaded in the background: late
#: enough to leave the CPU to the first answers, early enough for a first validation.
WARM_UP_DELAY = 1.0


def _warm_up() -> None:
    """Load the outbound HTTP stack and build its TLS context (~150 ms of CPU, blocking)."""
    from flashback_tui.server import probes  # noqa: F401 - what the first validation needs
    from flashback_tui.server.upstream import warm_up

    warm_up()


def _warm_up_in_background() -> None:
    """Run :func:`_warm_up` in a thread, so the first validation or gateway call is quick."""
    threading.Thread(target=_warm_up, name="warm-up", daemon=True).start()


def _limit_worker_threads(count: int) -> None:
    """Answer requests on at most ``count`` threads (each holds one database connection)."""
    from anyio.to_thread import current_default_thread_limiter

    current_default_thread_limiter().total_tokens = count


def create_app(settings: ServerSettings, *, state: PlatformState | None = None,
               clock: Clock | None = None) -> FastAPI:
    """Build the application. ``state`` may be opened beforehand (the runner does);
    ``clock`` replaces the system clock while the app runs (an in-process server's)."""
    from flashback_tui.server.gateway import Gateway, GatewayHooks
    from flashback_tui.server.gateway.core import UpstreamTimeouts
    from flashback_tui.server.routes import all_routers

    gateway = Gateway(UpstreamTimeouts.from_settings(settings),
                      durable_usage=settings.durable_usage)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        platform = state or PlatformState.open(settings.data_dir,
                                               database_url=settings.database_url_text)
        _limit_worker_threads(settings.worker_threads)
        app.state.platform = platform
        app.state.settings = settings
        app.state.answer_cache = AnswerCache()
        app.state.item_cache = ItemJsonCache()
        previous_clock = store_base.use_clock(clock) if clock is not None else None
        wall = clock or SYSTEM
        app.state.login_throttle = LoginThrottle(platform.db.conn, settings.login_max_failures,
                                                 settings.login_lockout,
                                                 clock=lambda: wall.now().timestamp())
        warm_up = asyncio.get_running_loop().call_later(WARM_UP_DELAY, _warm_up_in_background)
        await gateway.start(platform)
        retention = asyncio.create_task(run_periodically(platform.db.conn, RetentionPolicy(
            minute_days=settings.retention_minute_days,
            violation_days=settings.retention_violation_days,
            event_days=settings.retention_event_days, interval=settings.retention_interval)))
        try:
            yield
        finally:
            retention.cancel()
            await gateway.stop()  # writes the usage still pending
            warm_up.cancel()
            transport = getattr(app.state, "probe_transport", None)
            if transport is not None:
                await transport.aclose()
            platform.close()
            if previous_clock is not None:
                store_base.use_clock(previous_clock)

    app = FastAPI(
        title="Flashback local platform",
        version=__version__,
        description="A local implementation of the Flashback AI LLM API.",
        lifespan=lifespan,
        # Answers leave out empty optional fields (WireModel's serializer): describe them by
        # their fields, which is what a client reads, not by that serializer's signature.
        separate_input_output_schemas=False,
    )
    app.state.gateway = gateway
    _install_error_handlers(app)
    _openapi_without_422(app)
    for router in all_routers():
        app.include_router(router)
    app.add_middleware(GatewayHooks, gateway=gateway)
    if settings.strict_wire:
        from flashback_tui.server.strict_wire import StrictWire

        app.add_middleware(StrictWire)
    app.add_middleware(UnexpectedErrors)
    app.add_middleware(BodySizeLimit)
    app.add_middleware(HeaderLimits)
    return app
