"""Ping endpoints, Healthchecks-compatible. The URL is the secret; no API key.

/ping/{uuid}[/start|/fail|/log|/{exit_status}] and /ping/{ping_key}/{slug}[/…], ?rid=, ?create=1.

This is the hot path, so it is served by a bare ASGI handler in front of the framework:
parse, hand to the group-commit writer, answer once the batch holding the ping committed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from starlette.types import Receive, Scope, Send

from jobpulse.domain.checks import PingKind, ping_kind_for_exit_status
from jobpulse.runtime import Runtime
from jobpulse.store.pings import PingIn

PREFIX = "/ping/"
METHODS = frozenset({"GET", "POST", "HEAD"})
MAX_RID = 64
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_ACTIONS = {"start": PingKind.START, "fail": PingKind.FAIL, "log": PingKind.LOG}


@dataclass(frozen=True)
class PingAnswer:
    status: int
    text: str


NOT_FOUND = PingAnswer(404, "not found")
OK = PingAnswer(200, "OK")
BAD_EXIT_STATUS = PingAnswer(400, "exit status must be within 0..255")


@dataclass(frozen=True)
class PingTarget:
    """What a ping URL names: a check (by uuid, or by ping key and slug) and an action."""

    kind: PingKind
    exit_status: int | None = None
    check_uuid: str | None = None
    ping_key: str | None = None
    slug: str | None = None


def _parse_action(action: str | None) -> tuple[PingKind, int | None] | PingAnswer:
    if action is None:
        return PingKind.SUCCESS, None
    if action in _ACTIONS:
        return _ACTIONS[action], None
    digits = action[1:] if action.startswith("-") else action
    if digits.isdigit():
        exit_status = int(action)
        if not 0 <= exit_status <= 255:
            return BAD_EXIT_STATUS
        return ping_kind_for_exit_status(exit_status), exit_status
    return NOT_FOUND


def parse_ping_path(path: str) -> PingTarget | PingAnswer:
    """Read the part of the URL after /ping/."""
    segments = path.strip("/").split("/")
    if len(segments) > 3 or not all(segments):
        return NOT_FOUND
    if _UUID.match(segments[0]):
        if len(segments) > 2:
            return NOT_FOUND
        parsed = _parse_action(segments[1] if len(segments) == 2 else None)
        if isinstance(parsed, PingAnswer):
            return parsed
        return PingTarget(parsed[0], parsed[1], check_uuid=segments[0].lower())
    if len(segments) < 2:
        return NOT_FOUND
    parsed = _parse_action(segments[2] if len(segments) == 3 else None)
    if isinstance(parsed, PingAnswer):
        return parsed
    return PingTarget(parsed[0], parsed[1], ping_key=segments[0], slug=segments[1])


async def _read_body(receive: Receive, limit: int) -> tuple[bytes, bool]:
    """The first `limit` bytes of the request body and whether it was cut."""
    kept = bytearray()
    truncated = False
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        room = limit - len(kept)
        if len(chunk) > room:
            truncated = True
            chunk = chunk[: max(room, 0)]
        kept.extend(chunk)
        more = message.get("more_body", False)
    return bytes(kept), truncated


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


async def _answer(send: Send, answer: PingAnswer) -> None:
    body = answer.text.encode()
    await send(
        {
            "type": "http.response.start",
            "status": answer.status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"access-control-allow-origin", b"*"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def handle_ping(runtime: Runtime, scope: Scope, receive: Receive) -> PingAnswer:
    target = parse_ping_path(scope["path"][len(PREFIX) :])
    if isinstance(target, PingAnswer):
        return target
    query: dict[str, list[str]] = {}
    if scope.get("query_string"):
        query = parse_qs(scope["query_string"].decode("latin-1"))
    rid = query.get("rid", [None])[0] or None
    if rid is not None and len(rid) > MAX_RID:
        return PingAnswer(400, f"rid must be at most {MAX_RID} characters")
    body, truncated = b"", False
    if scope["method"] == "POST":
        body, truncated = await _read_body(receive, runtime.settings.ping_body_limit)
    client = scope.get("client")
    ping_in = PingIn(
        kind=target.kind,
        at=datetime.now(UTC),
        method=scope["method"],
        check_uuid=target.check_uuid,
        ping_key=target.ping_key,
        slug=target.slug,
        create=query.get("create", [""])[0] == "1",
        exit_status=target.exit_status,
        remote_addr=client[0] if client else None,
        user_agent=(_header(scope, b"user-agent") or "")[:300] or None,
        body=body.decode("utf-8", errors="replace") if body or truncated else None,
        body_truncated=truncated,
        rid=rid,
    )
    found = await runtime.writer.run(runtime.ping_ingest, ping_in)
    return OK if found else NOT_FOUND


class PingEndpoint:
    """The bare ASGI endpoint for every /ping/… URL."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] not in METHODS:
            await _answer(send, PingAnswer(405, "method not allowed"))
            return
        await _answer(send, await handle_ping(self.runtime, scope, receive))


def ping_routes_openapi() -> dict[str, Any]:
    """OpenAPI description of the ping URLs (they bypass the framework's router)."""
    parameters = [{"name": "rid", "in": "query", "required": False, "schema": {"type": "string"}}]
    responses = {
        "200": {"description": "OK: the ping is stored"},
        "404": {"description": "not found"},
        "400": {"description": "bad exit status or rid"},
    }
    operation = {"tags": ["pings"], "parameters": parameters, "responses": responses}
    paths: dict[str, Any] = {}
    for suffix, summary in [
        ("", "success"),
        ("/start", "a run started"),
        ("/fail", "a run failed"),
        ("/log", "a message, no state change"),
        ("/{exit_status}", "0 = success, 1-255 = failure"),
    ]:
        item = {**operation, "summary": f"Ping: {summary}"}
        methods = {"get": item, "post": item, "head": item}
        paths[f"/ping/{{uuid}}{suffix}"] = methods
        paths[f"/ping/{{ping_key}}/{{slug}}{suffix}"] = methods
    return paths
