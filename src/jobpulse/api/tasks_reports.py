"""Task log reports: /stats, /timeline, /overview, /errors and /health under /api/v1/tasks.

Stats, timeline and overview read the rollups, so they cost the same at 10 million runs as
at a thousand.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse
from sqlalchemy import Connection

from jobpulse.api.deps import principal, read, runtime_of
from jobpulse.api.tasks_serialize import SafeText, iso
from jobpulse.domain.errors import signature
from jobpulse.runtime import Runtime
from jobpulse.store import tasks_queries as queries
from jobpulse.store import tasks_stats as stats
from jobpulse.store.projects import Principal

router = APIRouter()

PeriodHours = Query(default=24, ge=1, le=24 * 400, description="window ending now, in hours")
_INTERVALS = {"hour": 3600, "day": 86400}


def _now() -> datetime:
    return datetime.now(UTC)


def _round(value: float | None, digits: int = 3) -> float | None:
    return round(value, digits) if value is not None else None


@router.get("/stats")
async def task_stats(
    who: Principal = Depends(principal),
    runtime: Runtime = Depends(runtime_of),
    period_hours: int = PeriodHours,
    task_name: SafeText | None = Query(default=None, max_length=200, description="exact name"),
    queue_name: SafeText | None = Query(default=None, max_length=200),
) -> dict[str, Any]:
    since = _now() - timedelta(hours=period_hours)
    found = await read(
        runtime, stats.totals, who.project_id, since, task_name=task_name, queue_name=queue_name
    )
    avg = found.avg_duration_ms
    return {
        "total": found.total,
        "successful": found.by_status["success"],
        "failed": found.by_status["failed"],
        "in_progress": found.by_status["in_progress"],
        "by_status": found.by_status,
        "success_rate": found.success_rate,
        "avg_duration_ms": _round(avg),
        "avg_duration_seconds": _round(avg / 1000 if avg is not None else None, 6),
        "p50_duration_ms": _round(found.percentile(50)),
        "p95_duration_ms": _round(found.percentile(95)),
        "p99_duration_ms": _round(found.percentile(99)),
        "period_hours": period_hours,
    }


@router.get("/timeline")
async def task_timeline(
    who: Principal = Depends(principal),
    runtime: Runtime = Depends(runtime_of),
    period_hours: int = PeriodHours,
    interval: Literal["hour", "day"] = "hour",
    task_name: SafeText | None = Query(default=None, max_length=200, description="exact name"),
) -> dict[str, Any]:
    now = _now()
    since = now - timedelta(hours=period_hours)
    buckets = await read(
        runtime, stats.timeline, who.project_id, since, now, _INTERVALS[interval], task_name
    )
    return {
        "period_hours": period_hours,
        "interval": interval,
        "results": [
            {
                "timestamp": iso(bucket.start),
                "total": bucket.totals.total,
                "successful": bucket.totals.by_status["success"],
                "failed": bucket.totals.by_status["failed"],
                "avg_duration_ms": _round(bucket.totals.avg_duration_ms),
            }
            for bucket in buckets
        ],
    }


@router.get("/overview")
async def task_overview(
    who: Principal = Depends(principal), runtime: Runtime = Depends(runtime_of)
) -> dict[str, Any]:
    """All-time counts by queue and status, and what happened in the last 24 hours."""
    day_ago = _now() - timedelta(hours=24)

    def query(conn: Connection) -> tuple[list[stats.GroupCount], list[stats.GroupCount]]:
        return (
            stats.totals_by(conn, who.project_id, None, "queue_name"),
            stats.totals_by(conn, who.project_id, day_ago, "queue_name"),
        )

    all_time, last_day = await read(runtime, query)
    everything = stats.sum_totals(all_time)
    recent = stats.sum_totals(last_day)
    return {
        "total_tasks": everything.total,
        "active_queues": [g.name for g in last_day if g.totals.total],
        "recent_failures": recent.by_status["failed"],
        "tasks_by_queue": [{"queue_name": g.name, "count": g.totals.total} for g in all_time],
        "tasks_by_status": [
            {"status": status, "count": n} for status, n in everything.by_status.items() if n
        ],
    }


@router.get("/errors")
async def task_errors(
    who: Principal = Depends(principal),
    runtime: Runtime = Depends(runtime_of),
    period_hours: int = PeriodHours,
    task_name: SafeText | None = Query(default=None, max_length=200, description="exact name"),
    limit: int = Query(default=50, ge=1, le=500),
) -> dict[str, Any]:
    """Failed runs grouped by fingerprint: type, normalised message and top frame."""
    since = _now() - timedelta(hours=period_hours)
    groups = await read(runtime, queries.error_groups, who.project_id, since, task_name, limit)
    results = []
    for group in groups:
        sample = group.sample
        found = signature(sample["error_message"], sample["traceback"])
        results.append(
            {
                "fingerprint": group.fingerprint,
                "error_type": found.error_type if found else "",
                "message": found.message if found else "",
                "top_frame": found.top_frame if found else "",
                "count": group.count,
                "first_seen": iso(group.first_seen),
                "last_seen": iso(group.last_seen),
                "sample": {
                    "id": sample["id"],
                    "job_id": sample["job_id"],
                    "task_name": sample["task_name"],
                    "error_message": sample["error_message"],
                },
            }
        )
    return {"period_hours": period_hours, "count": len(results), "results": results}


@router.get("/health")
async def task_health(
    who: Principal = Depends(principal),
    runtime: Runtime = Depends(runtime_of),
    stuck_minutes: float = Query(default=30, gt=0, le=100_000),
    max_failure_rate: float = Query(default=10, ge=0, le=100, description="percent"),
    max_queued: int = Query(default=1000, ge=0),
) -> JSONResponse:
    """The queue health check: 200 when healthy, 503 with the problems otherwise."""
    now = _now()

    def query(conn: Connection) -> tuple[int, int, stats.Totals]:
        stuck, queued = queries.count_stuck_and_queued(
            conn, who.project_id, now - timedelta(minutes=stuck_minutes)
        )
        last_hour = stats.totals(
            conn, who.project_id, now - timedelta(hours=1), with_histogram=False
        )
        return stuck, queued, last_hour

    stuck, queued, last_hour = await read(runtime, query)
    completed = last_hour.by_status["success"] + last_hour.by_status["failed"]
    failure_rate = round(last_hour.by_status["failed"] / completed * 100, 2) if completed else 0.0
    problems = []
    if stuck:
        problems.append(f"{stuck} task(s) in progress for more than {stuck_minutes:g} minutes")
    if failure_rate > max_failure_rate:
        problems.append(f"failure rate {failure_rate}% over the last hour > {max_failure_rate}%")
    if queued > max_queued:
        problems.append(f"{queued} queued task(s) > {max_queued}")
    body = {
        "healthy": not problems,
        "stuck_tasks": stuck,
        "failure_rate": failure_rate,
        "failed_last_hour": last_hour.by_status["failed"],
        "queued_backlog": queued,
        "problems": problems,
        "thresholds": {
            "stuck_minutes": stuck_minutes,
            "max_failure_rate": max_failure_rate,
            "max_queued": max_queued,
        },
    }
    return JSONResponse(body, status_code=200 if not problems else 503)
