"""/api/v1/queues (latest sample of each queue, with its stalled flag), the sample history
of one queue, /api/v1/workers, and the heartbeat endpoint SDK workers call."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import Connection

from jobpulse.api.deps import principal, read, runtime_of
from jobpulse.api.errors import field_error, not_found
from jobpulse.domain.queues import WorkerObservation, WorkerStatus
from jobpulse.runtime import Runtime
from jobpulse.store import queue_history, queues
from jobpulse.store.projects import Principal
from jobpulse.store.queue_sources import get_source

router = APIRouter(prefix="/api/v1/queues", tags=["queues"])
workers_router = APIRouter(prefix="/api/v1/workers", tags=["queues"])

STEPS = (0, 60, 300, 900, 3600, 21_600, 86_400)
MAX_POINTS = 2000


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def _now() -> datetime:
    return datetime.now(UTC)


def serialize_queue(state: queues.QueueState) -> dict[str, Any]:
    sample, source = state.sample, state.source
    ok = bool(sample["ok"])
    return {
        "name": sample["queue"],
        "source": source["name"],
        "library": source["library"],
        "ok": ok,
        "error": sample["error"],
        "depth": sample["depth"] if ok else None,
        "oldest_age_seconds": sample["oldest_age_s"],
        "oldest_age_reason": sample["oldest_age_reason"],
        "in_progress": sample["in_progress"],
        "scheduled": sample["scheduled"],
        "failed": sample["failed"],
        "consumers": sample["consumers"],
        "abandoned": sample["abandoned"],
        "sampled_at": _iso(sample["taken_at"]),
        "stalled": state.verdict.stalled,
        "stalled_reason": state.verdict.reason,
        "alive_workers": state.alive_workers,
    }


@router.get("")
async def list_queues(
    who: Principal = Depends(principal),
    runtime: Runtime = Depends(runtime_of),
    source: str | None = Query(default=None, max_length=100),
    stalled: bool | None = None,
    limit: int = Query(default=500, ge=1, le=5000),
    offset: int = Query(default=0, ge=0),
) -> dict[str, Any]:
    states = await read(runtime, queues.queue_states, who.project_id, _now(), source=source)
    if stalled is not None:
        states = [s for s in states if s.verdict.stalled is stalled]
    page = states[offset : offset + limit]
    return {"count": len(states), "queues": [serialize_queue(s) for s in page]}


def _parse_time(value: str | None, field: str, default: datetime) -> datetime:
    if value is None or value == "":
        return default
    try:
        return datetime.fromtimestamp(float(value), tz=UTC)
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise field_error(field, "an ISO 8601 time or epoch seconds") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _auto_step(span: timedelta) -> int:
    for step in STEPS:
        if step == 0:
            continue
        if span.total_seconds() / step <= MAX_POINTS:
            return step
    return STEPS[-1]


@router.get("/{name}/samples")
async def queue_samples(
    name: str,
    who: Principal = Depends(principal),
    runtime: Runtime = Depends(runtime_of),
    source: str | None = Query(default=None, max_length=100),
    start: str | None = Query(default=None, alias="from"),
    end: str | None = Query(default=None, alias="to"),
    step: int | None = Query(default=None, ge=0, le=86_400, description="seconds; 0 = raw"),
    limit: int = Query(default=MAX_POINTS, ge=1, le=10_000),
) -> dict[str, Any]:
    now = _now()
    until = _parse_time(end, "to", now)
    since = _parse_time(start, "from", until - timedelta(hours=1))
    if since > until:
        raise field_error("from", "must not be after 'to'")
    if source is not None:
        # Named source: its history, even of a queue the broker no longer lists.
        found = await read(runtime, get_source, who.project_id, source)
        owners = [found] if found is not None else []
    else:
        states = await read(runtime, queues.queue_states, who.project_id, now, queue=name)
        owners = [s.source for s in states]
    if not owners:
        raise not_found("no queue with this name")
    if len(owners) > 1:
        raise field_error("source", "several sources have this queue: name one")
    owner = owners[0]
    chosen = _auto_step(until - since) if step is None else step

    def fetch(conn: Connection) -> list[dict[str, Any]]:
        if chosen == 0:
            rows = queue_history.sample_history(conn, owner["id"], name, since, until, limit)
            return [dict(r) for r in rows]
        return queue_history.sample_buckets(conn, owner["id"], name, since, until, chosen, limit)

    rows = await read(runtime, fetch)
    return {
        "name": name,
        "source": owner["name"],
        "from": _iso(since),
        "to": _iso(until),
        "step": chosen,
        "samples": [_serialize_point(r) for r in rows],
    }


def _serialize_point(row: dict[str, Any]) -> dict[str, Any]:
    ok = bool(row["ok"])
    return {
        "at": _iso(row["taken_at"]),
        "ok": ok,
        "depth": row["depth"] if ok else None,
        "oldest_age_seconds": row["oldest_age_s"],
        "in_progress": row["in_progress"],
        "scheduled": row["scheduled"],
        "failed": row["failed"],
        "consumers": row["consumers"],
    }


# -- workers -------------------------------------------------------------------------------


def serialize_worker(row: Any, status: WorkerStatus) -> dict[str, Any]:
    return {
        "worker_id": row["worker_id"],
        "origin": "sdk" if row["origin"] == queues.SDK_ORIGIN else "broker",
        "source": row["source"],
        "library": row["library"],
        "hostname": row["hostname"],
        "pid": row["pid"],
        "queues": row["queues"] or [],
        "current_job": row["current_job"],
        "status": status.value,
        "last_seen": _iso(row["last_seen_at"]),
        "first_seen": _iso(row["first_seen_at"]),
        "heartbeat_interval": row["heartbeat_interval_s"],
    }


@workers_router.get("")
async def list_workers(
    who: Principal = Depends(principal),
    runtime: Runtime = Depends(runtime_of),
    status: WorkerStatus | None = None,
    limit: int = Query(default=500, ge=1, le=5000),
    offset: int = Query(default=0, ge=0),
) -> dict[str, Any]:
    rows = await read(runtime, queues.list_workers, who.project_id, _now(), status)
    page = rows[offset : offset + limit]
    return {"count": len(rows), "workers": [serialize_worker(r, s) for r, s in page]}


Text200 = Annotated[str, Field(min_length=1, max_length=200)]


class Heartbeat(BaseModel):
    """What an SDK worker reports every few seconds (see docs/queues.md)."""

    model_config = ConfigDict(extra="ignore")

    worker_id: Text200
    hostname: str | None = Field(default=None, max_length=200)
    pid: int | None = Field(default=None, ge=0, le=2**31 - 1)
    queues: list[Text200] = Field(default_factory=list, max_length=1000)
    current_job: str | None = Field(default=None, max_length=200)
    library: str | None = Field(default=None, max_length=20)
    ts: float | datetime | None = None
    interval: float | None = Field(default=None, gt=0, le=86_400)
    state: str = Field(default="online", pattern="^(online|offline)$")

    @field_validator("ts")
    @classmethod
    def _aware(cls, value: float | datetime | None) -> float | datetime | None:
        if isinstance(value, datetime) and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value

    def observation(self, now: datetime) -> WorkerObservation:
        if isinstance(self.ts, datetime):
            seen = self.ts
        elif self.ts is not None:
            seen = datetime.fromtimestamp(self.ts, tz=UTC)
        else:
            seen = now
        # A worker's clock may run ahead; a heartbeat never counts as later than its arrival.
        return WorkerObservation(
            worker_id=self.worker_id,
            last_seen=min(seen, now),
            hostname=self.hostname,
            pid=self.pid,
            queues=tuple(self.queues),
            current_job=self.current_job,
            library=self.library,
            heartbeat_interval_seconds=self.interval,
            online=self.state == "online",
        )


HeartbeatBody = Annotated[Heartbeat | list[Heartbeat], Body()]


@workers_router.post("/heartbeat", status_code=202)
@workers_router.post("/heartbeats", status_code=202, include_in_schema=False)
async def worker_heartbeat(
    body: HeartbeatBody,
    who: Principal = Depends(principal),
    runtime: Runtime = Depends(runtime_of),
) -> dict[str, Any]:
    beats = body if isinstance(body, list) else [body]
    if len(beats) > 1000:
        raise field_error("body", "at most 1000 heartbeats per request")
    now = _now()
    await asyncio.gather(
        *(
            runtime.writer.run(queues.record_heartbeat, (who.project_id, b.observation(now)))
            for b in beats
        )
    )
    return {"accepted": len(beats)}
