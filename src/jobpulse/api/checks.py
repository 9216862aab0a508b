"""/api/v1/checks: create, list, read, update, delete, pause, resume; pings and flips."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection, RowMapping

from jobpulse.api.deps import principal, read, runtime_of
from jobpulse.api.errors import field_error, not_found
from jobpulse.domain.checks import Status
from jobpulse.domain.schedule import Schedule, ScheduleKind, upcoming
from jobpulse.runtime import Runtime
from jobpulse.store import checks as repo
from jobpulse.store.projects import Principal, ping_key_of
from jobpulse.store.rows import schedule_of

router = APIRouter(prefix="/api/v1/checks", tags=["checks"])

Slug = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")]
Tag = Annotated[str, Field(min_length=1, max_length=50, pattern=r"^[A-Za-z0-9_.:-]+$")]
Seconds = Annotated[float, Field(description="seconds")]


class CheckCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    slug: Slug | None = None
    tags: list[Tag] = Field(default_factory=list, max_length=50)
    description: str = Field(default="", max_length=10_000)
    kind: Literal["simple", "cron"] = "simple"
    period: Seconds = 86400
    grace: Seconds = 3600
    schedule: str | None = Field(default=None, max_length=200, description="cron expression")
    tz: str = Field(default="UTC", max_length=64)
    max_runtime: Seconds | None = None


class CheckUpdate(BaseModel):
    """Every field optional: only the fields sent are changed."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    slug: Slug | None = None
    tags: list[Tag] | None = Field(default=None, max_length=50)
    description: str | None = Field(default=None, max_length=10_000)
    kind: Literal["simple", "cron"] | None = None
    period: Seconds | None = None
    grace: Seconds | None = None
    schedule: str | None = Field(default=None, max_length=200)
    tz: str | None = Field(default=None, max_length=64)
    max_runtime: Seconds | None = None


_NOT_NULLABLE = ("name", "tags", "description", "kind", "period", "grace", "tz")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def serialize_check(row: RowMapping, base_url: str, ping_key: str) -> dict[str, Any]:
    slug_url = f"{base_url}/ping/{ping_key}/{row['slug']}" if row["slug"] else None
    return {
        "uuid": row["uuid"],
        "name": row["name"],
        "slug": row["slug"],
        "tags": row["tags"] or [],
        "description": row["description"],
        "kind": row["kind"],
        "period": row["period_s"],
        "grace": row["grace_s"],
        "schedule": row["cron"],
        "tz": row["tz"],
        "max_runtime": row["max_runtime_s"],
        "status": row["status"],
        "down_reason": row["down_reason"],
        "last_ping": _iso(row["last_ping_at"]),
        "next_expected": _iso(row["next_expected_at"]),
        "started_at": _iso(row["started_at"]),
        "last_duration_ms": row["last_duration_ms"],
        "n_pings": row["n_pings"],
        "created_at": _iso(row["created_at"]),
        "updated_at": _iso(row["updated_at"]),
        "ping_url": f"{base_url}/ping/{row['uuid']}",
        "slug_ping_url": slug_url,
    }


async def _serialize(runtime: Runtime, who: Principal, row: RowMapping) -> dict[str, Any]:
    ping_key = await read(runtime, ping_key_of, who.project_id)
    return serialize_check(row, runtime.settings.base_url, ping_key)


async def _existing(runtime: Runtime, who: Principal, check_uuid: str) -> RowMapping:
    row = await read(runtime, repo.get_check, who.project_id, check_uuid.lower())
    if row is None:
        raise not_found("no check with this uuid")
    return row


def _now() -> datetime:
    return datetime.now(UTC)


@router.post("", status_code=201)
async def create_check(
    body: CheckCreate, who: Principal = Depends(principal), runtime: Runtime = Depends(runtime_of)
) -> dict[str, Any]:
    schedule = Schedule(
        kind=ScheduleKind(body.kind),
        period=timedelta(seconds=body.period),
        grace=timedelta(seconds=body.grace),
        cron=body.schedule,
        tz=body.tz,
        max_runtime=timedelta(seconds=body.max_runtime) if body.max_runtime is not None else None,
    )
    spec = repo.CheckSpec(body.name, schedule, body.slug, body.tags, body.description)
    row = await runtime.writer.run(repo.create_check, (who.project_id, spec, _now()))
    return await _serialize(runtime, who, row)


@router.get("")
async def list_checks(
    who: Principal = Depends(principal),
    runtime: Runtime = Depends(runtime_of),
    status: Status | None = None,
    tag: Tag | None = None,
    search: str | None = Query(default=None, max_length=200),
    limit: int = Query(default=100, ge=1, le=1000),
    offset: int = Query(default=0, ge=0),
) -> dict[str, Any]:
    def query(conn: Connection) -> tuple[int, list[RowMapping], str]:
        total, rows = repo.list_checks(
            conn, who.project_id, status=status, tag=tag, search=search, limit=limit, offset=offset
        )
        return total, rows, ping_key_of(conn, who.project_id)

    total, rows, ping_key = await read(runtime, query)
    base = runtime.settings.base_url
    return {"count": total, "checks": [serialize_check(r, base, ping_key) for r in rows]}


@router.get("/{check_uuid}")
async def get_check(
    check_uuid: str, who: Principal = Depends(principal), runtime: Runtime = Depends(runtime_of)
) -> dict[str, Any]:
    row = await _existing(runtime, who, check_uuid)
    result = await _serialize(runtime, who, row)
    result["upcoming"] = [_iso(t) for t in upcoming(schedule_of(row), _now(), 5)]
    return result


@router.patch("/{check_uuid}")
async def update_check(
    check_uuid: str,
    body: CheckUpdate,
    who: Principal = Depends(principal),
    runtime: Runtime = Depends(runtime_of),
) -> dict[str, Any]:
    fields = body.model_dump(exclude_unset=True)
    for name in _NOT_NULLABLE:
        if name in fields and fields[name] is None:
            raise field_error(name, "must not be null")
    change = repo.CheckChange(
        who.project_id,
        check_uuid.lower(),
        fields,
        _now(),
        runtime.cron_tolerance,
    )
    row = await runtime.writer.run(repo.update_check, change)
    if row is None:
        raise not_found("no check with this uuid")
    return await _serialize(runtime, who, row)


@router.delete("/{check_uuid}", status_code=204)
async def delete_check(
    check_uuid: str, who: Principal = Depends(principal), runtime: Runtime = Depends(runtime_of)
) -> Response:
    if not await runtime.writer.run(repo.delete_check, (who.project_id, check_uuid.lower())):
        raise not_found("no check with this uuid")
    return Response(status_code=204)


async def _set_paused(
    runtime: Runtime, who: Principal, check_uuid: str, paused: bool
) -> dict[str, Any]:
    argument = (who.project_id, check_uuid.lower(), paused, _now())
    row = await runtime.writer.run(repo.set_paused, argument)
    if row is None:
        raise not_found("no check with this uuid")
    return await _serialize(runtime, who, row)


@router.post("/{check_uuid}/pause")
async def pause_check(
    check_uuid: str, who: Principal = Depends(principal), runtime: Runtime = Depends(runtime_of)
) -> dict[str, Any]:
    return await _set_paused(runtime, who, check_uuid, True)


@router.post("/{check_uuid}/resume")
async def resume_check(
    check_uuid: str, who: Principal = Depends(principal), runtime: Runtime = Depends(runtime_of)
) -> dict[str, Any]:
    return await _set_paused(runtime, who, check_uuid, False)


def _serialize_ping(row: RowMapping) -> dict[str, Any]:
    return {
        "id": row["id"],
        "at": _iso(row["created_at"]),
        "kind": row["kind"],
        "method": row["method"],
        "remote_addr": row["remote_addr"],
        "user_agent": row["user_agent"],
        "exit_status": row["exit_status"],
        "body": row["body"],
        "body_truncated": row["body_truncated"],
        "rid": row["rid"],
        "duration_ms": row["duration_ms"],
    }


def _serialize_flip(row: RowMapping) -> dict[str, Any]:
    return {
        "id": row["id"],
        "at": _iso(row["created_at"]),
        "from": row["old_status"],
        "to": row["new_status"],
        "reason": row["reason"],
    }


@router.get("/{check_uuid}/pings")
async def list_pings(
    check_uuid: str,
    who: Principal = Depends(principal),
    runtime: Runtime = Depends(runtime_of),
    limit: int = Query(default=100, ge=1, le=1000),
    before: int | None = Query(default=None, ge=1, description="only pings with a smaller id"),
) -> dict[str, Any]:
    row = await _existing(runtime, who, check_uuid)
    found = await read(runtime, repo.list_pings, row["id"], limit, before)
    return {"pings": [_serialize_ping(p) for p in found]}


@router.get("/{check_uuid}/flips")
async def list_flips(
    check_uuid: str,
    who: Principal = Depends(principal),
    runtime: Runtime = Depends(runtime_of),
    limit: int = Query(default=100, ge=1, le=1000),
    before: int | None = Query(default=None, ge=1, description="only flips with a smaller id"),
) -> dict[str, Any]:
    row = await _existing(runtime, who, check_uuid)
    found = await read(runtime, repo.list_flips, row["id"], limit, before)
    return {"flips": [_serialize_flip(f) for f in found]}
