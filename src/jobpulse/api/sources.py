"""/api/v1/sources: the brokers jobpulse samples. URLs are shown with the password masked."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import RowMapping

from jobpulse.api.deps import principal, read, runtime_of
from jobpulse.api.errors import ApiError, field_error, not_found
from jobpulse.collectors.definitions import Library, QueueName, SourceDefinition, SourceOptions
from jobpulse.runtime import Runtime
from jobpulse.store import queue_sources as repo
from jobpulse.store.projects import Principal

router = APIRouter(prefix="/api/v1/sources", tags=["queues"])


class SourceUpdate(BaseModel):
    """Every field optional: only the fields sent are changed."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(
        default=None, min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$"
    )
    library: Library | None = None
    url: str | None = Field(default=None, min_length=8, max_length=2000)
    queues: list[QueueName] | None = Field(default=None, max_length=10_000)
    interval: float | None = Field(default=None, ge=1, le=86_400)
    timeout: float | None = Field(default=None, gt=0, le=120)
    enabled: bool | None = None
    options: SourceOptions | None = None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def serialize_source(row: RowMapping) -> dict[str, Any]:
    return {
        "name": row["name"],
        "library": row["library"],
        "url": repo.mask_url(row["url"]),
        "queues": row["queues"] or [],
        "interval": row["interval_s"],
        "timeout": row["timeout_s"],
        "enabled": row["enabled"],
        "options": row["options"] or {},
        "last_sample_at": _iso(row["last_sample_at"]),
        "last_error": row["last_error"],
        "created_at": _iso(row["created_at"]),
        "updated_at": _iso(row["updated_at"]),
    }


def _conflict() -> ApiError:
    taken = repo.SourceNameTaken
    return ApiError(409, "conflict", [{"field": taken.field, "reason": taken.reason}])


def _now() -> datetime:
    return datetime.now(UTC)


@router.post("", status_code=201)
async def create_source(
    body: SourceDefinition,
    who: Principal = Depends(principal),
    runtime: Runtime = Depends(runtime_of),
) -> dict[str, Any]:
    try:
        spec = body.spec()
    except ValueError as exc:
        raise field_error("library", str(exc)) from None
    try:
        row = await runtime.writer.run(repo.create_source, (who.project_id, spec, _now()))
    except repo.SourceNameTaken:
        raise _conflict() from None
    return serialize_source(row)


@router.get("")
async def list_sources(
    who: Principal = Depends(principal), runtime: Runtime = Depends(runtime_of)
) -> dict[str, Any]:
    rows = await read(runtime, repo.list_sources, who.project_id)
    return {"count": len(rows), "sources": [serialize_source(r) for r in rows]}


@router.get("/{name}")
async def get_source(
    name: str, who: Principal = Depends(principal), runtime: Runtime = Depends(runtime_of)
) -> dict[str, Any]:
    row = await read(runtime, repo.get_source, who.project_id, name)
    if row is None:
        raise not_found("no source with this name")
    return serialize_source(row)


@router.patch("/{name}")
async def update_source(
    name: str,
    body: SourceUpdate,
    who: Principal = Depends(principal),
    runtime: Runtime = Depends(runtime_of),
) -> dict[str, Any]:
    current = await read(runtime, repo.get_source, who.project_id, name)
    if current is None:
        raise not_found("no source with this name")
    sent = body.model_dump(exclude_unset=True)
    for field, value in sent.items():
        if value is None:
            raise field_error(field, "must not be null")
    merged = serialize_source(current) | sent
    merged["url"] = sent.get("url", current["url"])
    allowed = set(SourceDefinition.model_fields)
    try:
        spec = SourceDefinition.model_validate(
            {k: v for k, v in merged.items() if k in allowed}
        ).spec()
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "body"
        raise field_error(field, first["msg"]) from None
    except ValueError as exc:
        raise field_error("library", str(exc)) from None
    changes = {
        "name": spec.name,
        "library": spec.library,
        "url": spec.url,
        "queues": spec.queues,
        "options": spec.options,
        "interval_s": spec.interval_s,
        "timeout_s": spec.timeout_s,
        "enabled": spec.enabled,
    }
    try:
        row = await runtime.writer.run(repo.update_source, (who.project_id, name, changes, _now()))
    except repo.SourceNameTaken:
        raise _conflict() from None
    if row is None:
        raise not_found("no source with this name")
    return serialize_source(row)


@router.delete("/{name}", status_code=204)
async def delete_source(
    name: str, who: Principal = Depends(principal), runtime: Runtime = Depends(runtime_of)
) -> Response:
    if not await runtime.writer.run(repo.delete_source, (who.project_id, name)):
        raise not_found("no source with this name")
    return Response(status_code=204)
