"""POST /api/v1/events: task events in, 202 once they are committed."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any

import msgspec
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from msgspec import Meta, Struct

from jobpulse.api.deps import principal, runtime_of
from jobpulse.api.errors import ApiError, error_response
from jobpulse.domain.redact import Redactor, cap
from jobpulse.domain.runs import EventType, TaskEvent
from jobpulse.runtime import Runtime
from jobpulse.store.projects import Principal
from jobpulse.store.tasks_prepare import EventBatch

router = APIRouter(prefix="/api/v1", tags=["tasks"])

MAX_EVENTS_PER_REQUEST = 10_000
MAX_BODY_BYTES = 50_000_000
ERROR_MAX_CHARS = 2000
Name = Annotated[str, Meta(min_length=1, max_length=200)]
Count = Annotated[int, Meta(ge=0, le=1_000_000)]


class OutOfRange(ValueError):
    """A datetime whose UTC equivalent Python cannot represent (near year 1 or 9999)."""

    def __init__(self, field: str) -> None:
        super().__init__(field)
        self.field = field


class InvalidEvents(ValueError):
    """The body is not a list of valid events: `field` names where (e.g. "3.job_id")."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def _utc(value: datetime, field: str) -> datetime:
    if value.tzinfo is UTC:
        return value
    if value.tzinfo is None:  # naive means UTC
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise OutOfRange(field) from None


class EventIn(Struct):
    """One task event, as the SDK sends it (see docs/tasks.md). Unknown keys are ignored;
    `ts`, `eta` and `expires` are ISO 8601 / RFC 3339 (naive means UTC) or epoch seconds."""

    type: EventType
    job_id: Name
    task_name: Name
    queue: Name
    ts: datetime
    attempt: Count = 1
    worker_id: Annotated[str, Meta(max_length=200)] | None = None
    args: Any = None
    kwargs: Any = None
    result: Any = None
    error: str | None = None
    traceback: str | None = None
    retries: Count | None = None
    max_retries: Count | None = None
    retry_after: Annotated[float, Meta(ge=0, description="seconds")] | None = None
    eta: datetime | None = None
    expires: datetime | None = None
    tags: Annotated[list[Annotated[str, Meta(max_length=100)]], Meta(max_length=50)] | None = None
    trace_id: Annotated[str, Meta(max_length=100)] | None = None

    def without_nul(self) -> EventIn:
        """PostgreSQL text cannot hold NUL; the replacement character keeps text readable."""
        changes = {
            name: value.replace("\x00", "\ufffd")
            for name in _TEXT_FIELDS
            if isinstance(value := getattr(self, name), str) and "\x00" in value
        }
        return msgspec.structs.replace(self, **changes) if changes else self

    def to_event(self, redactor: Redactor) -> TaskEvent:
        # The decoded values in a fresh dict that the event adopts (ingest builds one per
        # event, and __init__ with 19 arguments would cost more).
        fields = msgspec.structs.asdict(self)
        fields["ts"] = _utc(self.ts, "ts")
        if self.eta is not None:
            fields["eta"] = _utc(self.eta, "eta")
        if self.expires is not None:
            fields["expires"] = _utc(self.expires, "expires")
        for name in ("args", "kwargs", "result"):
            if fields[name] is not None:
                fields[name] = redactor.clean(fields[name])
        if self.error is not None:
            fields["error"] = cap(self.error, ERROR_MAX_CHARS)
        if self.traceback is not None:
            fields["traceback"] = redactor.clean_text(self.traceback)
        if self.tags is not None:
            fields["tags"] = tuple(self.tags)
        return TaskEvent.adopting(fields)


_TEXT_FIELDS = ("job_id", "task_name", "queue", "worker_id", "error", "traceback", "trace_id")
# Decoding and validation in one pass of msgspec's compiled decoder: several times faster
# than building pydantic models, which was a fifth of the server's time under load.
# strict=False: epoch seconds for datetimes, and numbers sent as strings, are accepted.
_DECODER = msgspec.json.Decoder(list[EventIn], strict=False)
_AT = re.compile(r"^(?P<reason>.*?)\s*- at `\$(?P<path>[^`]*)`$", re.DOTALL)
_MISSING = re.compile(r"missing required field `(?P<name>[^`]+)`")


def _field_of(path: str, reason: str) -> str:
    """`[3].job_id` (msgspec's path) as `3.job_id` (the API's field names); a missing
    field is named too (msgspec points at the object that lacks it)."""
    parts = [part for part in re.split(r"[\[\].]+", path) if part]
    if missing := _MISSING.search(reason):
        parts.append(missing["name"])
    return ".".join(parts) or "body"


def decode_events(body: bytes) -> list[EventIn]:
    """The events of a request body; InvalidEvents names the first bad field."""
    try:
        return _DECODER.decode(body or b"null")
    except msgspec.ValidationError as exc:
        found = _AT.match(str(exc))
        if found is None:
            raise InvalidEvents("body", str(exc)) from None
        raise InvalidEvents(_field_of(found["path"], found["reason"]), found["reason"]) from None
    except msgspec.DecodeError as exc:
        raise InvalidEvents("body", f"malformed JSON: {exc}") from None


def _inline(schema: Any, defs: dict[str, Any]) -> Any:
    """The schema with its local $refs replaced by their definitions (for OpenAPI)."""
    if isinstance(schema, dict):
        ref = schema.get("$ref", "")
        if ref.startswith("#/$defs/"):
            return _inline(defs[ref.removeprefix("#/$defs/")], defs)
        return {k: _inline(v, defs) for k, v in schema.items() if k != "$defs"}
    if isinstance(schema, list):
        return [_inline(item, defs) for item in schema]
    return schema


_schema = msgspec.json.schema(list[EventIn])
# The body is read raw and decoded by _DECODER; this documents it.
_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": _inline(_schema, _schema.get("$defs", {}))}},
    }
}


def _invalid(field: str, reason: str) -> JSONResponse:
    return error_response(422, "validation failed", [{"field": field, "reason": reason}])


@router.post("/events", status_code=202, openapi_extra=_BODY)
async def post_events(
    request: Request,
    who: Principal = Depends(principal),
    runtime: Runtime = Depends(runtime_of),
) -> JSONResponse:
    """Record a JSON list of task events; answers 202 only after they are committed."""
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise ApiError(413, "payload too large", f"at most {MAX_BODY_BYTES} bytes per request")
    try:
        parsed = decode_events(body)
    except InvalidEvents as exc:
        return _invalid(exc.field, exc.reason)
    if len(parsed) > MAX_EVENTS_PER_REQUEST:
        return _invalid("body", f"at most {MAX_EVENTS_PER_REQUEST} events per request")
    if b"\\u0000" in body or b"\x00" in body:
        parsed = [item.without_nul() for item in parsed]
    redactor = runtime.tasks.redactor

    def convert() -> list[TaskEvent]:  # in the writer thread (see EventBatch)
        events = []
        for index, item in enumerate(parsed):
            try:
                events.append(item.to_event(redactor))
            except OutOfRange as exc:
                raise OutOfRange(f"{index}.{exc.field}") from None
        return events

    try:
        accepted = await runtime.writer.run(
            runtime.tasks.ingest, EventBatch(who.project_id, convert)
        )
    except OutOfRange as exc:
        return _invalid(exc.field, "out of range once converted to UTC")
    return JSONResponse({"accepted": accepted}, status_code=202)
