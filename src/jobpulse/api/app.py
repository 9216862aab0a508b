"""The application factory: settings and runtime are passed in, never read from globals."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from starlette.types import ASGIApp, Receive, Scope, Send

from jobpulse import __version__
from jobpulse.api import alert_rules, channels, checks, health, incidents, metrics, ping, probes
from jobpulse.api import events as event_api
from jobpulse.api import queues as queue_api
from jobpulse.api import sources as source_api
from jobpulse.api import tasks as task_api
from jobpulse.api.errors import install_error_handlers
from jobpulse.runtime import Runtime
from jobpulse.telemetry.middleware import RequestTelemetry
from jobpulse.web import install_dashboard


class JobpulseApp(FastAPI):
    """FastAPI, with the ping hot path answered before the framework's middleware stack."""

    ping_stack: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        is_ping = scope["type"] == "http" and scope["path"].startswith(ping.PREFIX)
        if is_ping and self.ping_stack is not None:
            await self.ping_stack(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


# Collect the youngest generation every 100,000 new containers, not every 700: ingest builds
# and drops several per event, nearly all freed by reference counting anyway. Against
# (10,000, 10, 10): validating, converting and preparing events cost 10.1 -> 8.3 us each,
# the same as with the collector off (benchmarks/README.md).
GC_THRESHOLDS = (100_000, 20, 20)


def settle_garbage_collector() -> None:
    """Move everything built at start-up (modules, app, pools: ~100 k objects) out of the
    collector's sight, so full collections stop re-walking it: about a fifth of the CPU that
    task ingest used went into collections (measured in benchmarks/README.md)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def create_app(runtime: Runtime, *, manage_runtime: bool = True) -> FastAPI:
    """Build the ASGI app. With `manage_runtime`, the app starts and stops the runtime."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if manage_runtime and not runtime.started:
            runtime.start()
        if manage_runtime:
            settle_garbage_collector()
        try:
            yield
        finally:
            if manage_runtime:
                runtime.stop()

    app = JobpulseApp(
        title="jobpulse",
        version=__version__,
        description="Monitoring for background jobs, scheduled jobs, workers and queues.",
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(checks.router)
    app.include_router(event_api.router)
    app.include_router(task_api.router)
    for queue_router in (source_api.router, queue_api.router, queue_api.workers_router):
        app.include_router(queue_router)
    for alerting in (alert_rules, channels, incidents, probes):
        app.include_router(alerting.router)
    install_dashboard(app)
    app.include_router(metrics.router)
    app.add_middleware(
        RequestTelemetry, metrics=runtime.metrics, access_log=runtime.settings.access_log
    )
    # Pings skip the framework's stack entirely; telemetry still sees them.
    # No access log line per ping: at thousands of pings a second it would cost more than
    # the ping; pings are counted in the request metrics instead.
    app.ping_stack = RequestTelemetry(
        ping.PingEndpoint(runtime), metrics=runtime.metrics, access_log=False
    )
    _document_pings(app)
    return app


def _document_pings(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes
            )
            schema["paths"].update(ping.ping_routes_openapi())
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def app_from_env() -> FastAPI:
    """Factory for `uvicorn --factory` and `jobpulse serve --workers N`: settings from env."""
    from jobpulse.config import load_settings

    return create_app(Runtime(load_settings()))


def worker_app() -> FastAPI:
    """One process of `jobpulse serve --workers N`: logging and settings from the environment."""
    from jobpulse.config import load_settings
    from jobpulse.telemetry.logs import configure_logging

    settings = load_settings()
    configure_logging(settings.log_format, settings.log_level)
    return create_app(Runtime(settings))
