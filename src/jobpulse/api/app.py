"""The application factory: settings and runtime are passed in, never read from globals."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from jobpulse import __version__
from jobpulse.api import checks, health, ping
from jobpulse.api.errors import install_error_handlers
from jobpulse.runtime import Runtime


def create_app(runtime: Runtime, *, manage_runtime: bool = True) -> FastAPI:
    """Build the ASGI app. With `manage_runtime`, the app starts and stops the runtime."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if manage_runtime and not runtime.started:
            runtime.start()
        try:
            yield
        finally:
            if manage_runtime:
                runtime.stop()

    app = FastAPI(
        title="jobpulse",
        version=__version__,
        description="Monitoring for background jobs, scheduled jobs, workers and queues.",
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    install_error_handlers(app)
    app.router.routes.extend(ping.routes)
    app.include_router(health.router)
    app.include_router(checks.router)
    return app
