"""Ping endpoints, Healthchecks-compatible. The URL is the secret; no API key.

/ping/{uuid}[/start|/fail|/log|/{exit_status}] and /ping/{ping_key}/{slug}[/…], ?rid=, ?create=1.
Kept as plain Starlette endpoints: this is the hot path.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from jobpulse.domain.checks import PingKind, ping_kind_for_exit_status
from jobpulse.runtime import Runtime
from jobpulse.store.pings import PingIn

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_ACTIONS = {"start": PingKind.START, "fail": PingKind.FAIL, "log": PingKind.LOG}
_HEADERS = {"Access-Control-Allow-Origin": "*"}
_MAX_RID = 64


def _text(body: str, status: int) -> Response:
    return PlainTextResponse(body, status_code=status, headers=_HEADERS)


def _parse_action(action: str | None) -> tuple[PingKind, int | None] | Response:
    if action is None:
        return PingKind.SUCCESS, None
    if action in _ACTIONS:
        return _ACTIONS[action], None
    if action.isdigit():
        exit_status = int(action)
        if exit_status > 255:
            return _text("exit status must be within 0..255", 400)
        return ping_kind_for_exit_status(exit_status), exit_status
    if action.startswith("-") and action[1:].isdigit():
        return _text("exit status must be within 0..255", 400)
    return _text("not found", 404)


async def _read_body(request: Request, limit: int) -> tuple[str | None, bool]:
    """The first `limit` bytes of the body (decoded leniently) and whether it was cut."""
    if request.method != "POST":
        return None, False
    kept = bytearray()
    truncated = False
    async for chunk in request.stream():
        room = limit - len(kept)
        if len(chunk) > room:
            truncated = True
            kept.extend(chunk[: max(room, 0)])
        else:
            kept.extend(chunk)
    if not kept and not truncated:
        return None, False
    return kept.decode("utf-8", errors="replace"), truncated


async def ping(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    segments = request.path_params["path"].strip("/").split("/")
    if not segments or len(segments) > 3 or not all(segments):
        return _text("not found", 404)
    check_uuid = ping_key = slug = None
    if _UUID.match(segments[0]):
        if len(segments) > 2:
            return _text("not found", 404)
        check_uuid = segments[0].lower()
        action = segments[1] if len(segments) == 2 else None
    else:
        if len(segments) < 2:
            return _text("not found", 404)
        ping_key, slug = segments[0], segments[1]
        action = segments[2] if len(segments) == 3 else None
    parsed = _parse_action(action)
    if isinstance(parsed, Response):
        return parsed
    kind, exit_status = parsed
    rid = request.query_params.get("rid") or None
    if rid is not None and len(rid) > _MAX_RID:
        return _text(f"rid must be at most {_MAX_RID} characters", 400)
    body, truncated = await _read_body(request, runtime.settings.ping_body_limit)
    ping_in = PingIn(
        kind=kind,
        at=datetime.now(UTC),
        method=request.method,
        check_uuid=check_uuid,
        ping_key=ping_key,
        slug=slug,
        create=request.query_params.get("create") == "1",
        exit_status=exit_status,
        remote_addr=request.client.host if request.client else None,
        user_agent=(request.headers.get("user-agent") or "")[:300] or None,
        body=body,
        body_truncated=truncated,
        rid=rid,
    )
    found = await runtime.writer.run(runtime.ping_ingest, ping_in)
    return _text("OK", 200) if found else _text("not found", 404)


routes = [Route("/ping/{path:path}", ping, methods=["GET", "POST", "HEAD"])]
