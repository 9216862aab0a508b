"""POST /api/v1/events: task events in, 202 once they are committed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

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
Name = Annotated[str, Field(min_length=1, max_length=200)]


class OutOfRange(ValueError):
    """A datetime whose UTC equivalent Python cannot represent (near year 1 or 9999)."""

    def __init__(self, field: str) -> None:
        super().__init__(field)
        self.field = field


def _utc(value: datetime, field: str) -> datetime:
    if value.tzinfo is UTC:
        return value
    if value.tzinfo is None:  # naive means UTC
        return value.replace(tzinfo=UTC)
    try:
        # The cheapest conversion of pydantic's own tzinfo (replace() costs twice as much).
        return value.astimezone(UTC)
    except OverflowError:
        raise OutOfRange(field) from None


class EventIn(BaseModel):
    """One task event, as the SDK sends it (see docs/tasks.md)."""

    model_config = ConfigDict(extra="ignore")

    type: EventType
    job_id: Name
    task_name: Name
    queue: Name
    ts: datetime = Field(description="ISO 8601 (naive means UTC) or epoch seconds")
    attempt: int = Field(default=1, ge=0, le=1_000_000)
    worker_id: str | None = Field(default=None, max_length=200)
    args: Any = None
    kwargs: Any = None
    result: Any = None
    error: str | None = None
    traceback: str | None = None
    retries: int | None = Field(default=None, ge=0, le=1_000_000)
    max_retries: int | None = Field(default=None, ge=0, le=1_000_000)
    retry_after: float | None = Field(default=None, ge=0, description="seconds")
    eta: datetime | None = None
    expires: datetime | None = None
    tags: list[Annotated[str, Field(max_length=100)]] | None = Field(default=None, max_length=50)
    trace_id: str | None = Field(default=None, max_length=100)

    def without_nul(self) -> EventIn:
        """PostgreSQL text cannot hold NUL; the replacement character keeps text readable."""
        changes = {
            name: value.replace("\x00", "\ufffd")
            for name in _TEXT_FIELDS
            if isinstance(value := getattr(self, name), str) and "\x00" in value
        }
        return self.model_copy(update=changes) if changes else self

    def to_event(self, redactor: Redactor) -> TaskEvent:
        # The validated values, converted in a copy of the model's own dict: the event
        # adopts that dict (ingest builds one per event, and __init__ would cost more).
        fields = dict(self.__dict__)
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
# Validation stays in pydantic's compiled core: no Python validator runs per field and event.
_EVENTS = TypeAdapter(list[EventIn])


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


_schema = _EVENTS.json_schema()
# The body is read raw and validated by _EVENTS (fast JSON parsing); this documents it.
_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": _inline(_schema, _schema.get("$defs", {}))}},
    }
}


def _errors(exc: ValidationError) -> list[dict[str, str]]:
    return [
        {"field": ".".join(str(p) for p in err["loc"]) or "body", "reason": err["msg"]}
        for err in exc.errors(include_url=False)[:50]
    ]


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
        parsed = _EVENTS.validate_json(body or b"null")
    except ValidationError as exc:
        return error_response(422, "validation failed", _errors(exc))
    if len(parsed) > MAX_EVENTS_PER_REQUEST:
        return error_response(
            422,
            "validation failed",
            [{"field": "body", "reason": f"at most {MAX_EVENTS_PER_REQUEST} events per request"}],
        )
    if b"\\u0000" in body or b"\x00" in body:
        parsed = [item.without_nul() for item in parsed]
    redactor = runtime.tasks.redactor
    events = []
    for index, item in enumerate(parsed):
        try:
            events.append(item.to_event(redactor))
        except OutOfRange as exc:
            reason = "out of range once converted to UTC"
            return error_response(
                422, "validation failed", [{"field": f"{index}.{exc.field}", "reason": reason}]
            )
    batch = EventBatch(who.project_id, events)
    accepted = await runtime.writer.run(runtime.tasks.ingest, batch)
    return JSONResponse({"accepted": accepted}, status_code=202)
