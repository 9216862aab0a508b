"""Queue and worker pages: latest depth, age and stall verdict of each queue with its recent
history charts, and the workers seen (alive, gone, stopped)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy import Connection
from starlette.responses import Response

from jobpulse.api.deps import read, runtime_of
from jobpulse.domain.queues import WorkerStatus
from jobpulse.runtime import Runtime
from jobpulse.store import queue_history, queues
from jobpulse.web import charts
from jobpulse.web.access import Access, PageNotFound, project_access
from jobpulse.web.formatting import span
from jobpulse.web.templating import render

router = APIRouter(prefix="/p/{project_id}", include_in_schema=False)

SPARK_WINDOW = timedelta(hours=1)
SPARK_STEP = 120
CHART_WINDOWS = {
    "1": (timedelta(hours=1), 60),
    "24": (timedelta(hours=24), 900),
    "168": (timedelta(days=7), 3600),
}
WORKER_TONES = {"alive": "ok", "gone": "bad", "stopped": "muted"}


def _now() -> datetime:
    return datetime.now(UTC)


@router.get("/queues")
async def queue_list(
    request: Request,
    access: Access = Depends(project_access),
    runtime: Runtime = Depends(runtime_of),
) -> Response:
    now = _now()

    def fetch(conn: Connection) -> list[dict[str, Any]]:
        found = []
        for state in queues.queue_states(conn, access.project_id, now):
            points = queue_history.sample_buckets(
                conn,
                state.source["id"],
                state.sample["queue"],
                now - SPARK_WINDOW,
                now,
                SPARK_STEP,
                100,
            )
            depths = [p["depth"] if p["ok"] else None for p in points]
            found.append({"state": state, "spark": charts.sparkline(depths, "depth, last hour")})
        return found

    rows = await read(runtime, fetch)
    return render(request, "queues.html", {"access": access, "nav": "queues", "rows": rows})


@router.get("/queues/{source}/{name}")
async def queue_detail(
    request: Request,
    source: str,
    name: str,
    access: Access = Depends(project_access),
    runtime: Runtime = Depends(runtime_of),
) -> Response:
    window_key = request.query_params.get("window", "24")
    window, step = CHART_WINDOWS.get(window_key, CHART_WINDOWS["24"])
    now = _now()

    def fetch(conn: Connection) -> dict[str, Any] | None:
        states = queues.queue_states(conn, access.project_id, now, queue=name, source=source)
        if not states:
            return None
        state = states[0]
        points = queue_history.sample_buckets(
            conn, state.source["id"], name, now - window, now, step, 2000
        )
        return {"state": state, "points": points}

    found = await read(runtime, fetch)
    if found is None:
        raise PageNotFound()
    points = found["points"]
    depth = [
        charts.Bar(p["depth"] or 0, "info", f"{p['taken_at']:%d %b %H:%M} UTC: depth {p['depth']}")
        for p in points
    ]
    ages = [
        charts.Bar(
            p["oldest_age_s"] or 0,
            "warn",
            f"{p['taken_at']:%d %b %H:%M} UTC: oldest {span(p['oldest_age_s'] or 0)}",
        )
        for p in points
    ]
    return render(
        request,
        "queue.html",
        {
            "access": access,
            "nav": "queues",
            "state": found["state"],
            "depth_chart": charts.bar_chart(depth, "queue depth", slots=60),
            "age_chart": charts.bar_chart(ages, "age of the oldest job", slots=60),
            "first": points[0]["taken_at"] if points else None,
            "window": window_key if window_key in CHART_WINDOWS else "24",
        },
    )


@router.get("/workers")
async def worker_list(
    request: Request,
    access: Access = Depends(project_access),
    runtime: Runtime = Depends(runtime_of),
) -> Response:
    wanted = request.query_params.get("status")
    status = WorkerStatus(wanted) if wanted in set(WorkerStatus) else None
    rows = await read(runtime, queues.list_workers, access.project_id, _now(), status)
    counts = {s.value: 0 for s in WorkerStatus}
    for _, worker_status in rows:
        counts[worker_status.value] += 1
    return render(
        request,
        "workers.html",
        {
            "access": access,
            "nav": "workers",
            "rows": rows,
            "status": status.value if status else "",
            "worker_tones": WORKER_TONES,
            "counts": counts,
        },
    )
