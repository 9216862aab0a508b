"""Two nodes on one PostgreSQL database, storing events of the same new jobs at once.

Producers and workers report to whichever node the proxy picks, so the enqueue of a job and
its start and end often reach two nodes in the same instant. Both see a new job; the
database's one-run-per-job rule (migration 0111: an exclusion constraint over a hash of the
job reference) must refuse the second insert, and that writer's retry must fold its events
into the run the first one stored: one run per job, rollups that count each run once.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Future
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from jobpulse.domain.runs import EventType, TaskEvent
from jobpulse.runtime import Runtime
from jobpulse.store.projects import ensure_project
from jobpulse.store.tasks_prepare import EventBatch
from tests.conftest import make_settings

ROUNDS = 12
JOBS_PER_ROUND = 400
NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def second_node(database_url: str, runtime: Runtime) -> Iterator[Runtime]:
    node = Runtime(make_settings(database_url))
    node.start(run_loops=False)
    yield node
    node.stop()
    node.engine.dispose()


def _event(kind: EventType, job_id: str, seconds: float, **fields: str) -> TaskEvent:
    at = NOW - timedelta(minutes=5) + timedelta(seconds=seconds)
    return TaskEvent(kind, job_id, "reports.build", "default", at, **fields)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_nodes_storing_the_same_new_jobs_keep_one_run_each(
    runtime: Runtime, second_node: Runtime
) -> None:
    with runtime.engine.begin() as conn:
        project_id = ensure_project(conn)
    pending: list[Future[object]] = []
    for round_ in range(ROUNDS):
        jobs = [f"job-{round_}-{n}" for n in range(JOBS_PER_ROUND)]
        producer = [_event(EventType.ENQUEUED, job, 0) for job in jobs]
        worker = [_event(EventType.STARTED, job, 1, worker_id="w1") for job in jobs]
        worker += [_event(EventType.SUCCEEDED, job, 2) for job in jobs]
        # Opposite orders: each node waits on jobs the other one inserted (deadlocks too).
        for node, events in ((runtime, producer), (second_node, worker[::-1])):
            pending.append(node.writer.submit(node.tasks.ingest, EventBatch(project_id, events)))
    for future in pending:
        future.result(timeout=120)
    runs = ROUNDS * JOBS_PER_ROUND
    with runtime.engine.connect() as conn:
        stored = conn.execute(
            text(
                "SELECT COUNT(*), COUNT(DISTINCT job_id), "
                "COUNT(*) FILTER (WHERE status = 'success' AND enqueue_time IS NOT NULL "
                "AND worker_id = 'w1') FROM task_runs"
            )
        ).one()
        counted = conn.execute(
            text(
                "SELECT SUM(n_success), SUM(n_queued + n_in_progress) FROM task_rollups "
                "WHERE period = 60"
            )
        ).one()
    assert tuple(stored) == (runs, runs, runs)
    assert tuple(counted) == (runs, 0)
