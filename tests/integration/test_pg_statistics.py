"""The planner on PostgreSQL: statistics kept when nobody else does, plans made per query."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from jobpulse.domain.runs import EventType, TaskEvent
from jobpulse.runtime import Runtime
from jobpulse.store.pg_statistics import (
    analyze_stale_tables,
    stale_tables,
    unvacuumed_tables,
    vacuum_unvacuumed_tables,
)
from jobpulse.store.projects import ensure_project
from jobpulse.store.tasks_prepare import EventBatch
from jobpulse.store.tasks_queries import Page, TaskFilter, list_runs
from tests.integration.test_tasks_query_plans import _plans

NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)


# PostgreSQL only: SQLite's planner uses no statistics for these queries.
pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


def _ingest_runs(runtime: Runtime, tasks: dict[str, int]) -> None:
    with runtime.engine.begin() as conn:
        project_id = ensure_project(conn)
        events = [
            TaskEvent(
                EventType.ENQUEUED, f"{task}-{n}", task, "default", NOW + timedelta(seconds=n)
            )
            for task, count in tasks.items()
            for n in range(count)
        ]
        runtime.tasks.ingest(conn, [EventBatch(project_id, events)])
        conn.execute(text("SELECT pg_stat_force_next_flush()"))  # counters now, not in 1 s


def _task_runs_state(runtime: Runtime, expressions: str) -> tuple[object, ...]:
    """`expressions` over task_runs' row of pg_stat_user_tables joined with pg_class."""
    with runtime.engine.begin() as conn:
        found = conn.execute(
            text(
                f"SELECT {expressions} FROM pg_stat_user_tables AS s JOIN pg_class "
                "ON pg_class.oid = s.relid "
                "WHERE s.schemaname = current_schema() AND s.relname = 'task_runs'"
            )
        ).one()
    return tuple(found)


def test_a_table_grown_past_the_threshold_is_analysed_once(runtime: Runtime) -> None:
    _ingest_runs(runtime, {"reports.build": 500})
    with runtime.engine.begin() as conn:
        conn.execute(text("SELECT pg_stat_clear_snapshot()"))
        assert "task_runs" in stale_tables(conn)
    assert "task_runs" in analyze_stale_tables(runtime.engine)
    assert analyze_stale_tables(runtime.engine) == []
    assert _task_runs_state(runtime, "last_analyze IS NOT NULL") == (True,)


def test_a_table_grown_past_the_threshold_is_vacuumed_once(runtime: Runtime) -> None:
    # Vacuumed, the table's pages are all-visible: a count of one task's runs reads the
    # index alone (with autovacuum off it read every counted run from the table too).
    _ingest_runs(runtime, {"reports.build": 2000})
    with runtime.engine.begin() as conn:
        conn.execute(text("SELECT pg_stat_clear_snapshot()"))
        assert "task_runs" in unvacuumed_tables(conn)
    assert "task_runs" in vacuum_unvacuumed_tables(runtime.engine)
    with runtime.engine.begin() as conn:
        conn.execute(text("SELECT pg_stat_force_next_flush()"))
    assert "task_runs" not in vacuum_unvacuumed_tables(runtime.engine)
    found = _task_runs_state(runtime, "last_vacuum IS NOT NULL, relallvisible = relpages")
    assert found == (True, True)


@pytest.mark.parametrize("task", ["reports.build", "mail.send"])
def test_with_statistics_one_task_newest_first_is_read_in_index_order(
    runtime: Runtime, task: str
) -> None:
    # Without statistics PostgreSQL guessed a few rows per task, read a big task's runs
    # through the duration index and sorted them all (1.6 s at ten million runs; the guess
    # only goes that wrong at millions of rows, see benchmarks/README.md). With them, a
    # dominant and a rare task are both read in created-at order, nothing sorted.
    _ingest_runs(runtime, {"reports.build": 20_000, "mail.send": 200})
    analyze_stale_tables(runtime.engine)
    where = TaskFilter(task_name_exact=task)
    *_, page = _plans(runtime, lambda conn, pid: list_runs(conn, pid, where, Page()))
    assert "Sort" not in page and "created" in page, page


def test_statements_are_planned_for_their_parameters_not_prepared_once(runtime: Runtime) -> None:
    # A generic plan reused for every task name served rare and common tasks alike badly.
    _ingest_runs(runtime, {"reports.build": 100})
    with runtime.engine.begin() as conn:
        for _ in range(10):
            list_runs(conn, 1, TaskFilter(task_name_exact="reports.build"), Page())
        prepared = conn.execute(text("SELECT count(*) FROM pg_prepared_statements")).scalar()
    assert prepared == 0
