"""Request dependencies: the node's runtime, the caller's principal, database reads."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import Depends, Request
from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool

from jobpulse.api.errors import ApiError
from jobpulse.runtime import Runtime
from jobpulse.store.projects import Principal, principal_for_key
from jobpulse.telemetry.logs import bind

T = TypeVar("T")

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def read(runtime: Runtime, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a read-only repository function on a pooled connection, off the event loop."""

    def call() -> T:
        with runtime.engine.connect() as conn:
            return function(conn, *args, **kwargs)

    return await run_in_threadpool(call)


def _key_from(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return request.headers.get("x-api-key") or None


async def principal(request: Request, runtime: Runtime = Depends(runtime_of)) -> Principal:
    key = _key_from(request)
    if key is None:
        raise ApiError(
            401, "unauthorized", "send an API key as 'Authorization: Bearer KEY' or 'X-Api-Key'"
        )

    def lookup(conn: Connection) -> Principal | None:
        return principal_for_key(conn, key)

    found = await read(runtime, lookup)
    if found is None:
        raise ApiError(401, "unauthorized", "unknown API key")
    if found.read_only and request.method not in _SAFE_METHODS:
        raise ApiError(403, "forbidden", "this API key is read-only")
    bind(project=str(found.project_id))  # every log line of this request names the project
    return found
