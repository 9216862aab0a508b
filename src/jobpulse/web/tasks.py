"""Task log pages: the filtered list, one run in detail, errors by fingerprint, stats."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy import Connection
from starlette.responses import Response

from jobpulse.api.deps import read, runtime_of
from jobpulse.domain.errors import signature
from jobpulse.domain.runs import RunStatus
from jobpulse.runtime import Runtime
from jobpulse.store import tasks_queries as queries
from jobpulse.store import tasks_stats as stats
from jobpulse.web import task_charts, task_filters
from jobpulse.web.access import Access, PageNotFound, project_access
from jobpulse.web.templating import render
from jobpulse.web.traceback_view import error_type, highlight

router = APIRouter(prefix="/p/{project_id}/tasks", include_in_schema=False)

PAGE_SIZE = 50
PERIODS = {"1": "last hour", "24": "last 24 hours", "168": "last 7 days", "720": "last 30 days"}


def _now() -> datetime:
    return datetime.now(UTC)


def _period(request: Request, default: str = "24") -> int:
    chosen = request.query_params.get("period", default)
    return int(chosen if chosen in PERIODS else default)


@router.get("")
async def task_list(
    request: Request,
    access: Access = Depends(project_access),
    runtime: Runtime = Depends(runtime_of),
) -> Response:
    query = task_filters.parse(dict(request.query_params))
    paging = queries.Page(query.ordering, query.page, PAGE_SIZE)

    def fetch(conn: Connection) -> dict[str, Any]:
        return {
            "found": queries.list_runs(conn, access.project_id, query.where, paging),
            "queues": [
                g.name for g in stats.totals_by(conn, access.project_id, None, "queue_name")
            ],
        }

    found = await read(runtime, fetch)
    return render(
        request,
        "tasks.html",
        {
            "access": access,
            "nav": "tasks",
            "query": query,
            **found,
            "statuses": [s.value for s in RunStatus],
            "sortable": task_filters.SORTABLE,
        },
    )


@router.get("/errors")
async def task_errors(
    request: Request,
    access: Access = Depends(project_access),
    runtime: Runtime = Depends(runtime_of),
) -> Response:
    period = _period(request)
    since = _now() - timedelta(hours=period)
    groups = await read(runtime, queries.error_groups, access.project_id, since, None, 100)
    rows = [
        {"group": g, "signature": signature(g.sample["error_message"], g.sample["traceback"])}
        for g in groups
    ]
    return render(
        request,
        "task_errors.html",
        {
            "access": access,
            "nav": "errors",
            "rows": rows,
            "period": str(period),
            "periods": PERIODS,
        },
    )


@router.get("/stats")
async def task_stats(
    request: Request,
    access: Access = Depends(project_access),
    runtime: Runtime = Depends(runtime_of),
) -> Response:
    """Charts for the whole project, one task (task_name) or one queue (queue_name)."""
    period = min(_period(request), 168)
    task_name = request.query_params.get("task_name") or None
    queue_name = request.query_params.get("queue_name") or None
    now = _now()

    def fetch(conn: Connection) -> dict[str, Any]:
        since = now - timedelta(hours=period)
        return {
            "task_charts": task_charts.build(
                conn, access.project_id, now, period, task_name, queue_name
            ),
            "by_task": stats.totals_by(conn, access.project_id, since, "task_name"),
            "by_queue": stats.totals_by(conn, access.project_id, since, "queue_name"),
        }

    found = await read(runtime, fetch)
    return render(
        request,
        "task_stats.html",
        {
            "access": access,
            "nav": "stats",
            **found,
            "period": str(period),
            "periods": {k: v for k, v in PERIODS.items() if int(k) <= 168},
            "task_name": task_name,
            "queue_name": queue_name,
        },
    )


@router.get("/{task_id}")
async def task_detail(
    request: Request,
    task_id: str,
    access: Access = Depends(project_access),
    runtime: Runtime = Depends(runtime_of),
) -> Response:
    def fetch(conn: Connection) -> dict[str, Any] | None:
        run = queries.get_run(conn, access.project_id, task_id)
        if run is None:
            return None
        return {
            "run": run,
            "attempts": queries.attempts_of(conn, run),
            "related": queries.related_runs(conn, access.project_id, run, 15),
        }

    found = await read(runtime, fetch)
    if found is None:
        raise PageNotFound()
    run = found["run"]
    lines = highlight(run["traceback"])
    found_signature = signature(run["error_message"], run["traceback"])
    return render(
        request,
        "task.html",
        {
            "access": access,
            "nav": "tasks",
            **found,
            "traceback": lines,
            "error_title": (found_signature.error_type if found_signature else "")
            or error_type(lines)
            or "Error",
        },
    )
