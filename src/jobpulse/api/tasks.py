"""/api/v1/tasks: the task log list (seed TaskLog filters, page and cursor paging), one run
with its attempts, and related runs. Reports (stats, timeline, ...) live in tasks_reports."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import Connection

from jobpulse.api import tasks_reports
from jobpulse.api.deps import principal, read, runtime_of
from jobpulse.api.errors import field_error, not_found
from jobpulse.api.tasks_serialize import SafeText, attempt_json, iso, run_json
from jobpulse.domain.runs import RunStatus
from jobpulse.runtime import Runtime
from jobpulse.store import tasks_queries as queries
from jobpulse.store.projects import Principal
from jobpulse.store.tasks_cursor import BadCursor

router = APIRouter(prefix="/api/v1/tasks", tags=["tasks"])
# Static paths (/stats, /timeline, ...) must be matched before /{task_id}.
router.include_router(tasks_reports.router)

MAX_PAGE_SIZE = 1000


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _names(field: str, value: str | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    names = tuple(part.strip() for part in value.split(",") if part.strip())
    if not names:
        raise field_error(field, "give one or more comma-separated values")
    return names


def _statuses(value: str | None) -> tuple[RunStatus, ...] | None:
    names = _names("status_in", value)
    if names is None:
        return None
    known = {s.value for s in RunStatus}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise field_error("status_in", f"unknown status {unknown[0]!r}; one of {sorted(known)}")
    return tuple(RunStatus(n) for n in names)


def task_filter(
    task_name: SafeText | None = Query(default=None, max_length=200, description="contains"),
    task_name_exact: SafeText | None = Query(default=None, max_length=200),
    queue_name: SafeText | None = Query(default=None, max_length=200),
    queue_name_in: SafeText | None = Query(default=None, description="comma-separated"),
    status: RunStatus | None = None,
    status_in: SafeText | None = Query(default=None, description="comma-separated statuses"),
    job_id: SafeText | None = Query(default=None, max_length=200),
    is_completed: bool | None = None,
    is_successful: bool | None = None,
    is_failed: bool | None = None,
    created_after: datetime | None = None,
    created_before: datetime | None = None,
    duration_min: float | None = Query(default=None, ge=0, description="milliseconds"),
    duration_max: float | None = Query(default=None, ge=0, description="milliseconds"),
    job_retries_min: int | None = Query(default=None, ge=0, le=1_000_000),
    job_retries_max: int | None = Query(default=None, ge=0, le=1_000_000),
    has_error: bool | None = None,
    worker_id: SafeText | None = Query(default=None, max_length=200),
    search: SafeText | None = Query(default=None, min_length=1, max_length=200),
) -> queries.TaskFilter:
    return queries.TaskFilter(
        task_name=task_name,
        task_name_exact=task_name_exact,
        queue_name=queue_name,
        queue_name_in=_names("queue_name_in", queue_name_in),
        status=status,
        status_in=_statuses(status_in),
        job_id=job_id,
        is_completed=is_completed,
        is_successful=is_successful,
        is_failed=is_failed,
        created_after=_utc(created_after),
        created_before=_utc(created_before),
        duration_min=duration_min,
        duration_max=duration_max,
        job_retries_min=job_retries_min,
        job_retries_max=job_retries_max,
        has_error=has_error,
        worker_id=worker_id,
        search=search,
    )


def _ordering(value: str) -> str:
    if value.lstrip("-") not in queries.ORDERING_FIELDS:
        raise field_error("ordering", f"one of {', '.join(queries.ORDERING_FIELDS)}, '-' for desc")
    return value


@router.get("")
async def list_tasks(
    request: Request,
    who: Principal = Depends(principal),
    runtime: Runtime = Depends(runtime_of),
    where: queries.TaskFilter = Depends(task_filter),
    ordering: str = Query(default="-created_at", max_length=50),
    page: int = Query(default=1, ge=1, le=1_000_000),
    page_size: int = Query(default=50, ge=1, le=MAX_PAGE_SIZE),
    cursor: SafeText | None = Query(default=None, max_length=2000),
) -> dict[str, Any]:
    paging = queries.Page(_ordering(ordering), page, page_size, cursor)
    try:
        found = await read(runtime, queries.list_runs, who.project_id, where, paging)
    except BadCursor as exc:
        raise field_error("cursor", str(exc)) from None
    url = request.url
    if cursor:
        next_url = str(url.include_query_params(cursor=found.next_cursor))
        previous_url = None
    else:
        next_url = str(url.include_query_params(page=page + 1))
        previous_url = str(url.include_query_params(page=page - 1)) if page > 1 else None
    return {
        "count": found.count,
        "count_exact": found.count_exact,
        "next": next_url if found.has_more else None,
        "previous": previous_url,
        "next_cursor": found.next_cursor,
        "searched_since": iso(found.searched_since),
        "results": [run_json(row) for row in found.rows],
    }


@router.get("/{task_id}")
async def get_task(
    task_id: SafeText, who: Principal = Depends(principal), runtime: Runtime = Depends(runtime_of)
) -> dict[str, Any]:
    """One run by id (or job_id), with the history of its attempts."""

    def query(conn: Connection) -> dict[str, Any] | None:
        row = queries.get_run(conn, who.project_id, task_id)
        if row is None:
            return None
        found = run_json(row, detail=True)
        found["attempts"] = [attempt_json(a) for a in queries.attempts_of(conn, row)]
        return found

    found = await read(runtime, query)
    if found is None:
        raise not_found("no task run with this id")
    return found


@router.get("/{task_id}/related")
async def related_tasks(
    task_id: SafeText,
    who: Principal = Depends(principal),
    runtime: Runtime = Depends(runtime_of),
    limit: int = Query(default=20, ge=1, le=200),
) -> dict[str, Any]:
    """Other runs of the same job_id or task, newest first."""

    def query(conn: Connection) -> list[dict[str, Any]] | None:
        row = queries.get_run(conn, who.project_id, task_id)
        if row is None:
            return None
        return [run_json(r) for r in queries.related_runs(conn, who.project_id, row, limit)]

    found = await read(runtime, query)
    if found is None:
        raise not_found("no task run with this id")
    return {"count": len(found), "results": found}
