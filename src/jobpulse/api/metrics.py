"""GET /metrics: Prometheus text format. Open like /healthz unless JOBPULSE_METRICS_TOKEN is set."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Depends, Request, Response
from starlette.concurrency import run_in_threadpool

from jobpulse.api.deps import runtime_of
from jobpulse.api.errors import ApiError
from jobpulse.runtime import Runtime
from jobpulse.telemetry.metrics import CONTENT_TYPE

router = APIRouter(tags=["health"])


def _authorised(request: Request, token: str) -> bool:
    header = request.headers.get("authorization", "")
    given = header[7:].strip() if header.lower().startswith("bearer ") else ""
    return hmac.compare_digest(given.encode(), token.encode())


@router.get("/metrics", response_class=Response)
async def metrics(request: Request, runtime: Runtime = Depends(runtime_of)) -> Response:
    token = runtime.settings.metrics_token
    if token and not _authorised(request, token):
        raise ApiError(401, "unauthorized", "send 'Authorization: Bearer <JOBPULSE_METRICS_TOKEN>'")
    # World metrics query the database: render off the event loop.
    body = await run_in_threadpool(runtime.metrics.render)
    return Response(body, media_type=CONTENT_TYPE)
