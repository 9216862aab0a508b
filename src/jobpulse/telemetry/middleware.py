"""ASGI middleware: request id in and out, request metrics by route template, access log.

Labels use the matched route's template (`/ping/{path:path}`, `/api/v1/checks/{uuid}`), never
the raw path: ping URLs are secrets and would make one series per check. Paths that match no
route count as `unmatched`.
"""

from __future__ import annotations

import itertools
import logging
import re
import secrets
import time

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from jobpulse.telemetry.logs import fields, pop_context, push_context
from jobpulse.telemetry.metrics import NodeMetrics

log = logging.getLogger("jobpulse.access")

REQUEST_ID_HEADER = b"x-request-id"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"
# Paths answered by middleware before any router (the ping fast path), by prefix.
PREFIX_ROUTES = (("/ping/", "/ping/{path}"),)


# New request ids: a random prefix per process and a counter. Unique enough to find a request
# in the logs, and free: a uuid4 per request (a getrandom call) cost more than a whole ping.
_ID_PREFIX = secrets.token_hex(8)
_ID_COUNTER = itertools.count()


def new_request_id() -> str:
    return f"{_ID_PREFIX}{next(_ID_COUNTER):016x}"


def request_id_from(scope: Scope) -> str:
    """The caller's X-Request-Id when it is a sane token, else a new one."""
    for name, value in scope.get("headers", ()):
        if name == REQUEST_ID_HEADER:  # ASGI servers give header names in lowercase
            candidate = value.decode("latin-1").strip()
            if _VALID_REQUEST_ID.match(candidate):
                return candidate
    return new_request_id()


def subject_fields(scope: Scope) -> dict[str, str]:
    """The check or task a request is about, from its path, for the access line.

    A check's uuid is its ping URL's secret: only its first 8 characters are logged.
    """
    params = scope.get("path_params") or {}
    found: dict[str, str] = {}
    if isinstance(params.get("check_uuid"), str):
        found["check"] = params["check_uuid"][:8] + "…"
    if isinstance(params.get("task_id"), str | int):
        found["task"] = str(params["task_id"])[:100]
    return found


def route_template(scope: Scope) -> str:
    """The matched route's path template, or `unmatched`."""
    path = getattr(scope.get("route"), "path", None)
    if isinstance(path, str) and path:
        return path
    # Plain Starlette routes (the ping hot path) only leave their endpoint in the scope.
    endpoint = scope.get("endpoint")
    if endpoint is not None:
        for route in getattr(scope.get("router"), "routes", ()):
            if getattr(route, "endpoint", None) is endpoint:
                return str(route.path)
    path = str(scope.get("path", ""))
    for prefix, template in PREFIX_ROUTES:
        if path.startswith(prefix):
            return template
    return UNMATCHED


class RequestTelemetry:
    def __init__(self, app: ASGIApp, metrics: NodeMetrics, access_log: bool = True) -> None:
        self.app = app
        self.metrics = metrics
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(scope)
        method = scope["method"] if scope["method"] in _KNOWN_METHODS else "other"
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                MutableHeaders(scope=message)["X-Request-Id"] = request_id
            await send(message)

        started = time.perf_counter()
        context = push_context({"request_id": request_id})
        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            status = 500
            log.exception("unhandled error", extra=fields(method=method))
            raise
        finally:
            try:
                elapsed = time.perf_counter() - started
                route = route_template(scope)
                self.metrics.observe_request(route, method, status, elapsed)
                if self.access_log:
                    log.info(
                        "%s %s %d",
                        method,
                        route,
                        status,
                        extra=fields(
                            **subject_fields(scope),
                            method=method,
                            route=route,
                            status=status,
                            duration_ms=round(elapsed * 1000, 2),
                        ),
                    )
            finally:
                pop_context(context)
