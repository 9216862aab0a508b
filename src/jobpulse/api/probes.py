"""/api/v1/probes: HTTP endpoints polled on an interval, watched by the probe_* rules."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from jobpulse.api.alert_common import create_row, delete_row, existing, iso, now, update_row
from jobpulse.api.deps import principal, read, runtime_of
from jobpulse.runtime import Runtime
from jobpulse.store import alerts as repo
from jobpulse.store.projects import Principal

router = APIRouter(prefix="/api/v1/probes", tags=["alerts"])


def _http_url(value: str) -> str:
    if not value.startswith(("http://", "https://")):
        raise ValueError("must be an http:// or https:// URL")
    return value


Tag = Annotated[str, Field(min_length=1, max_length=50, pattern=r"^[A-Za-z0-9_.:-]+$")]


class ProbeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")
    url: Annotated[str, Field(max_length=2000), AfterValidator(_http_url)]
    interval: float = Field(default=30, ge=1, le=86400, description="seconds")
    timeout: float = Field(default=10, gt=0, le=60, description="seconds")
    tags: list[Tag] = Field(default_factory=list, max_length=50)
    enabled: bool = True


class DeployIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    at: datetime | None = Field(default=None, description="default: now")


def serialize_probe(row: Any) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "url": row["url"],
        "interval": row["interval_s"],
        "timeout": row["timeout_s"],
        "tags": row["tags"],
        "enabled": row["enabled"],
        "deployed_at": iso(row["deployed_at"]),
        "created_at": iso(row["created_at"]),
    }


def _values(body: ProbeIn) -> dict[str, Any]:
    values = body.model_dump()
    values["interval_s"] = values.pop("interval")
    values["timeout_s"] = values.pop("timeout")
    values["next_poll_at"] = now()
    return values


@router.get("")
async def list_probes(
    who: Principal = Depends(principal), runtime: Runtime = Depends(runtime_of)
) -> dict[str, Any]:
    rows = await read(runtime, repo.probes.list, who.project_id)
    return {"probes": [serialize_probe(row) for row in rows]}


@router.post("", status_code=201)
async def create_probe(
    body: ProbeIn, who: Principal = Depends(principal), runtime: Runtime = Depends(runtime_of)
) -> dict[str, Any]:
    return serialize_probe(await create_row(runtime, repo.probes, who, _values(body)))


@router.put("/{probe_id}")
async def replace_probe(
    probe_id: int,
    body: ProbeIn,
    who: Principal = Depends(principal),
    runtime: Runtime = Depends(runtime_of),
) -> dict[str, Any]:
    return serialize_probe(await update_row(runtime, repo.probes, who, probe_id, _values(body)))


@router.post("/{probe_id}/deployed")
async def mark_deployed(
    probe_id: int,
    body: DeployIn | None = None,
    who: Principal = Depends(principal),
    runtime: Runtime = Depends(runtime_of),
) -> dict[str, Any]:
    """Record a deploy: probe_never_ready fires if no poll succeeds within its limit."""
    await existing(runtime, repo.probes, who, probe_id)
    at = (body.at if body and body.at else None) or now()
    values = {"deployed_at": at, "next_poll_at": now()}
    return serialize_probe(await update_row(runtime, repo.probes, who, probe_id, values))


@router.delete("/{probe_id}", status_code=204)
async def delete_probe(
    probe_id: int, who: Principal = Depends(principal), runtime: Runtime = Depends(runtime_of)
) -> Response:
    return await delete_row(runtime, repo.probes, who, probe_id)
