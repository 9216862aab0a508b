"""The task log's hot queries read an index, never a scan of every run: checked with EXPLAIN
on both databases, for the queries the code really sends (captured as they execute)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, event

from jobpulse.domain.runs import EventType, RunStatus, TaskEvent
from jobpulse.runtime import Runtime
from jobpulse.store.alert_task_facts import task_windows
from jobpulse.store.projects import ensure_project
from jobpulse.store.tasks_ingest import _known_runs
from jobpulse.store.tasks_prepare import EventBatch
from jobpulse.store.tasks_queries import (
    Page,
    TaskFilter,
    count_stuck_and_queued,
    error_groups,
    get_run,
    list_runs,
)
from jobpulse.store.tasks_stats import totals

NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)


@contextmanager
def captured(conn: Connection, table: str = "task_runs") -> Iterator[list[tuple[str, Any]]]:
    """SELECTs on `table` sent on `conn`, with their parameters."""
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and table in statement:
            seen.append((statement, parameters))

    event.listen(conn, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(conn, "before_cursor_execute", record)


def plan(conn: Connection, statement: str, parameters: Any) -> str:
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        if conn.dialect.name == "sqlite":
            cursor.execute(f"EXPLAIN QUERY PLAN {statement}", parameters)
            return "\n".join(str(row[-1]) for row in cursor.fetchall())
        # An empty table is cheapest to scan: forbid scans to see which index serves.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {statement}", parameters)
        return "\n".join(str(row[0]) for row in cursor.fetchall())
    finally:
        cursor.close()


def scans_every_run(conn: Connection, text: str) -> bool:
    if conn.dialect.name == "sqlite":
        return any(
            line.startswith("SCAN task_runs") and "INDEX" not in line for line in text.splitlines()
        )
    return "Seq Scan on task_runs" in text


LISTS = {
    "failed in the last 24 h": TaskFilter(status=RunStatus.FAILED, created_after=NOW),
    "one task": TaskFilter(task_name_exact="reports.build"),
    "one queue, successful, last 24 h": TaskFilter(
        queue_name="mail", is_successful=True, created_after=NOW
    ),
    "everything, newest first": TaskFilter(),
}


def _plans(
    runtime: Runtime, send: Callable[[Connection, int], object], table: str = "task_runs"
) -> list[str]:
    with runtime.engine.begin() as conn:
        project_id = ensure_project(conn)
        with captured(conn, table) as seen:
            send(conn, project_id)
        assert seen, f"no query on {table} was sent"
        return [plan(conn, statement, parameters) for statement, parameters in seen]


@pytest.mark.parametrize("name", list(LISTS))
def test_filtered_lists_read_an_index(runtime: Runtime, name: str) -> None:
    plans = _plans(runtime, lambda conn, pid: list_runs(conn, pid, LISTS[name], Page()))
    dialect = runtime.engine.dialect.name
    for text in plans:
        assert "task_runs" in text or dialect == "postgresql"
        with runtime.engine.connect() as conn:
            assert not scans_every_run(conn, text), text


def test_slowest_first_for_one_task_reads_the_duration_index(runtime: Runtime) -> None:
    page = Page(ordering="-duration_ms")
    where = TaskFilter(task_name_exact="reports.build")
    plans = _plans(runtime, lambda conn, pid: list_runs(conn, pid, where, page))
    assert "ix_task_runs_task_duration_octave" in plans[-1], plans[-1]


def test_alert_windows_read_recent_finishes_by_index(runtime: Runtime) -> None:
    plans = _plans(runtime, lambda conn, pid: task_windows(conn, pid, timedelta(minutes=5), NOW))
    finished_window, _running, history, _baseline = plans
    for text in (finished_window, history):
        assert "ix_task_runs_finished" in text, text
    for text in plans:
        with runtime.engine.connect() as conn:
            assert not scans_every_run(conn, text), text


@pytest.mark.parametrize("table", ["task_rollups", "task_project_durations"])
def test_project_wide_stats_read_rollups_by_key_range(runtime: Runtime, table: str) -> None:
    """Hours and minutes are two ranges of the rollup key, read as such (one OR of both was
    a scan of the project's rows on a WITHOUT ROWID table)."""
    since = NOW - timedelta(hours=24)
    plans = _plans(runtime, lambda conn, pid: totals(conn, pid, since), table)
    assert len(plans) == 2, plans
    assert not any("task_rollup_durations" in text for text in plans), plans
    for text in plans:
        if runtime.engine.dialect.name == "sqlite":
            ranged = "USING PRIMARY KEY (project_id=? AND period=? AND bucket_start>"
            assert f"SEARCH {table} {ranged}" in text, text
        else:
            assert "Index" in text and "Seq Scan" not in text, text


def test_one_tasks_stats_read_its_histograms_by_key_range(runtime: Runtime) -> None:
    since = NOW - timedelta(hours=24)
    send = lambda conn, pid: totals(conn, pid, since, task_name="reports.build")  # noqa: E731
    plans = _plans(runtime, send, "task_rollup_durations")
    assert len(plans) == 2, plans
    for text in plans:
        if runtime.engine.dialect.name == "sqlite":
            assert "(project_id=? AND period=? AND bucket_start>" in text, text
        else:
            assert "Index" in text and "Seq Scan" not in text, text


@pytest.mark.parametrize(
    "where",
    [
        TaskFilter(status_in=(RunStatus.RETRYING, RunStatus.EXPIRED)),
        TaskFilter(is_completed=False),
    ],
    ids=["status_in", "not completed"],
)
def test_rare_statuses_newest_first_read_the_status_index(
    runtime: Runtime, where: TaskFilter
) -> None:
    """Walking the created-at index and filtering would read every run when the statuses
    are rare (61 s at 10 M runs): each status is read as its own index range instead."""
    count, page = _plans(runtime, lambda conn, pid: list_runs(conn, pid, where, Page()))
    if runtime.engine.dialect.name == "sqlite":
        for text in (count, page):
            assert "ix_task_runs_status_created" in text, text
            assert "ix_task_runs_created " not in text + " ", text
    else:  # an empty table has no statistics: the page's shape is what is checked
        ranges = [line for line in page.splitlines() if "Index Cond" in line]
        assert "Append" in page and len(ranges) >= 2, page
        assert all("status" in line for line in ranges), page


RUNS = 30_000


@pytest.mark.parametrize("runs", [2_000, RUNS])
def test_ingest_looks_jobs_up_in_the_unique_index(runtime: Runtime, runs: int) -> None:
    # No ANALYZE: a new table (or autovacuum off) has no statistics, and a lookup planned
    # on guesses read every run of the project, comparing each with the whole list. At
    # 2,000 runs PostgreSQL chose the duration index by project alone for each job id
    # (ingest stalled for minutes once the table had grown).
    with runtime.engine.begin() as conn:
        project_id = ensure_project(conn)
        events = [
            TaskEvent(EventType.ENQUEUED, f"job-{n}", "reports.build", "default", NOW)
            for n in range(runs)
        ]
        runtime.tasks.ingest(conn, [EventBatch(project_id, events)])
    job_ids = [f"job-{n}" for n in range(0, runs, runs // 40)] + ["job-new"]
    (text,) = _plans(runtime, lambda conn, pid: _known_runs(conn, pid, job_ids))
    if runtime.engine.dialect.name == "sqlite":
        assert "SEARCH task_runs USING COVERING INDEX" in text, text
        assert "(project_id=? AND job_id=?)" in text, text
        return
    _assert_reads_the_job_ref_index(text)


def _assert_reads_the_job_ref_index(text: str) -> None:
    """PostgreSQL: a run is found by its job reference's hash index (migration 0111)."""
    lines = text.splitlines()
    assert "ex_task_runs_job_ref" in text and "Seq Scan on task_runs" not in text, text
    assert any("Index Cond" in line and "job_id" in line for line in lines), text


@pytest.mark.parametrize(
    "read",
    [
        lambda conn, pid: list_runs(conn, pid, TaskFilter(job_id="job-7"), Page()),
        lambda conn, pid: get_run(conn, pid, "job-7"),
    ],
    ids=["list filtered by job_id", "detail by job_id"],
)
def test_reads_by_job_id_use_the_job_index(
    runtime: Runtime, read: Callable[[Connection, int], object]
) -> None:
    for text in _plans(runtime, read):
        if runtime.engine.dialect.name == "sqlite":
            assert "sqlite_autoindex_task_runs_1 (project_id=? AND job_id=?)" in text, text
        else:
            _assert_reads_the_job_ref_index(text)


RARE_STATUS_READS: dict[str, Callable[[Connection, int], object]] = {
    "failed runs' error groups": lambda conn, pid: error_groups(conn, pid, NOW, None, 10),
    "health: stuck and queued": lambda conn, pid: count_stuck_and_queued(conn, pid, NOW),
    "alerts: runs in progress": lambda conn, pid: task_windows(conn, pid, timedelta(1), NOW),
}


@pytest.mark.parametrize("name", list(RARE_STATUS_READS))
def test_reads_of_rare_statuses_use_the_partial_status_index(runtime: Runtime, name: str) -> None:
    """The status index leaves successful runs out (migration 0108); a query reaches it only
    by stating its condition (tasks_tables.has_status), else it would read every run."""
    plans = _plans(runtime, RARE_STATUS_READS[name])
    by_status = [text for text in plans if "status" in text or "Index" in text]
    if runtime.engine.dialect.name == "sqlite":
        assert any("ix_task_runs_status_created" in text for text in plans), plans
    else:
        assert by_status, plans
    for text in plans:
        with runtime.engine.connect() as conn:
            assert not scans_every_run(conn, text), text
