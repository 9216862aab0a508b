"""/api/v1/incidents: list, read (with every notice, suppressed ones included), ack, resolve."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Query
from sqlalchemy import RowMapping

from jobpulse.api.alert_common import iso, now
from jobpulse.api.deps import principal, read, runtime_of
from jobpulse.api.errors import not_found
from jobpulse.runtime import Runtime
from jobpulse.store import alerts as repo
from jobpulse.store.alerts import Change
from jobpulse.store.projects import Principal

router = APIRouter(prefix="/api/v1/incidents", tags=["alerts"])


def serialize_incident(row: RowMapping) -> dict[str, Any]:
    labels = row["labels"] or {}
    return {
        "id": row["id"],
        "rule_id": row["rule_id"],
        "rule": row["rule_name"],
        "subject": row["subject_label"],
        "subject_key": row["subject_key"],
        "severity": row["severity"],
        "status": row["status"],
        "summary": row["summary"],
        "labels": labels.get("values", {}),
        "tags": labels.get("tags", []),
        "started_at": iso(row["started_at"]),
        "opened_at": iso(row["opened_at"]),
        "acked_at": iso(row["acked_at"]),
        "resolved_at": iso(row["resolved_at"]),
        "resolved_by": row["resolved_by"],
        "last_notified_at": iso(row["last_notified_at"]),
    }


def serialize_notice(row: RowMapping) -> dict[str, Any]:
    return {
        "id": row["id"],
        "notice_id": row["notice_id"],
        "kind": row["kind"],
        "channel_id": row["channel_id"],
        "status": row["status"],
        "silence_id": row["silence_id"],
        "attempts": row["attempts"],
        "last_error": row["last_error"],
        "created_at": iso(row["created_at"]),
        "delivered_at": iso(row["delivered_at"]),
        "next_attempt_at": iso(row["next_attempt_at"]) if row["status"] == "pending" else None,
    }


@router.get("")
async def list_incidents(
    who: Principal = Depends(principal),
    runtime: Runtime = Depends(runtime_of),
    status: Literal["open", "acked", "resolved", "unresolved"] | None = None,
    limit: int = Query(default=100, ge=1, le=1000),
    offset: int = Query(default=0, ge=0),
) -> dict[str, Any]:
    total, rows = await read(
        runtime, repo.list_incidents, who.project_id, status=status, limit=limit, offset=offset
    )
    return {"count": total, "incidents": [serialize_incident(row) for row in rows]}


@router.get("/{incident_id}")
async def get_incident(
    incident_id: int, who: Principal = Depends(principal), runtime: Runtime = Depends(runtime_of)
) -> dict[str, Any]:
    found = await read(runtime, repo.incident_with_notices, who.project_id, incident_id)
    if found is None:
        raise not_found("no incident with this id")
    incident, notices = found
    return {**serialize_incident(incident), "notices": [serialize_notice(n) for n in notices]}


async def _change(
    runtime: Runtime, who: Principal, incident_id: int, handler: Any
) -> dict[str, Any]:
    change = Change(who.project_id, now(), incident_id, base_url=runtime.settings.base_url)
    row = await runtime.writer.run(handler, change)
    if row is None:
        raise not_found("no incident with this id")
    return serialize_incident(row)


@router.post("/{incident_id}/ack")
async def ack_incident(
    incident_id: int, who: Principal = Depends(principal), runtime: Runtime = Depends(runtime_of)
) -> dict[str, Any]:
    """Acknowledge: someone is on it; repeats of a critical incident stop."""
    return await _change(runtime, who, incident_id, repo.ack_incident)


@router.post("/{incident_id}/resolve")
async def resolve_incident(
    incident_id: int, who: Principal = Depends(principal), runtime: Runtime = Depends(runtime_of)
) -> dict[str, Any]:
    """Resolve by hand (a resolved notice goes out). While the rule's condition still holds
    the incident does not reopen; it can fire again once the condition has cleared."""
    return await _change(runtime, who, incident_id, repo.resolve_incident)
