"""Requests prepared apart and committed together, on SQLite and PostgreSQL.

Each request's events are folded before the writer's turn as if their jobs were new; the
writer must still give one correct run per job, and rollups that match the runs, when a
job turns out to be known or appears in several requests of one group commit.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from jobpulse.domain.redact import Redactor
from jobpulse.domain.runs import TaskEvent
from jobpulse.runtime import Runtime
from jobpulse.store.tasks_prepare import EventBatch
from tests.integration.test_tasks_api import lifecycle, post


def _events(*raw: dict[str, Any]) -> list[TaskEvent]:
    from jobpulse.api.events import decode_events  # the API's own validation

    return [item.to_event(Redactor()) for item in decode_events(orjson.dumps(list(raw)))]


def _commit_together(
    runtime: Runtime, project_id: int, *requests: list[TaskEvent], planned: bool = True
) -> list[int]:
    """What the group-commit writer does with requests that arrive during one transaction:
    each prepared, then all together before the turn (`planned`; without, as when a failed
    transaction's jobs are retried, the handler merges them in the turn)."""
    batches = [EventBatch(project_id, events) for events in requests]
    if planned:
        for batch in batches:
            runtime.tasks.ingest.prepare(batch)
        runtime.tasks.ingest.prepare_together(batches)
    with runtime.engine.connect().execution_options(sqlite_immediate=True) as conn, conn.begin():
        return runtime.tasks.ingest(conn, batches)


def _counts_by_status(runtime: Runtime) -> tuple[dict[str, int], dict[str, int]]:
    """Runs per status, from the rows and from the minute and hour rollups."""
    statuses = ("queued", "in_progress", "success", "failed", "retrying")
    sums = ", ".join(f"SUM(n_{s})" for s in statuses)
    with runtime.engine.connect() as conn:
        found = conn.execute(text("SELECT status, COUNT(*) FROM task_runs GROUP BY status"))
        rows = {status: n for status, n in found}
        per_period = [
            conn.execute(text(f"SELECT {sums} FROM task_rollups WHERE period = {p}")).one()
            for p in (60, 3600)
        ]
    minute, hour = ({s: n for s, n in zip(statuses, r, strict=True) if n} for r in per_period)
    assert minute == hour
    return rows, minute


@pytest.mark.parametrize("planned", [True, False])
def test_jobs_split_over_requests_of_one_commit_give_one_run_each(
    client: TestClient, runtime: Runtime, planned: bool
) -> None:
    known = lifecycle("known", 300, 2.0)
    post(client, known[:2])  # stored before: queued... then started
    with runtime.engine.connect() as conn:
        project_id = conn.execute(text("SELECT project_id FROM task_runs")).scalar_one()
    split = lifecycle("split", 200, 1.5, result={"n": 1})
    again = lifecycle("again", 100, 0.5)
    accepted = _commit_together(
        runtime,
        project_id,
        _events(split[0], split[1], again[0], *again),  # a replay within the request too
        _events(split[2], split[1], known[2]),
        _events(*again),  # a replay in another request
        _events(*lifecycle("alone", 50, 0.25, outcome="failed", error="KeyError: 'x'")),
        planned=planned,
    )
    assert accepted == [6, 3, 3, 3]
    runs = {job: client.get(f"/api/v1/tasks/{job}").json() for job in ("known", "split", "again")}
    assert runs["split"]["status"] == "success" and runs["split"]["result"] == {"n": 1}
    assert runs["split"]["duration_ms"] == 1500.0 and runs["split"]["worker_id"] == "w1"
    assert runs["known"]["status"] == "success" and runs["known"]["duration_ms"] == 2000.0
    assert runs["again"]["status"] == "success"
    assert [len(run["attempts"]) for run in runs.values()] == [1, 1, 1]
    stored, rolled_up = _counts_by_status(runtime)
    assert stored == rolled_up == {"success": 3, "failed": 1}
    stats = client.get("/api/v1/tasks/stats").json()
    assert (stats["total"], stats["successful"], stats["failed"]) == (4, 3, 1)


def test_a_request_with_nothing_new_changes_nothing(client: TestClient, runtime: Runtime) -> None:
    events = lifecycle("done", 30, 1.0)
    post(client, events)
    with runtime.engine.connect() as conn:
        project_id = conn.execute(text("SELECT project_id FROM task_runs")).scalar_one()
    run_before = client.get("/api/v1/tasks/done").json()
    counts_before = _counts_by_status(runtime)
    # Replayed whole in one request (on SQLite the insert finds it stored and leaves it),
    # then split over two requests of one commit.
    assert _commit_together(runtime, project_id, _events(*events)) == [3]
    assert _commit_together(runtime, project_id, _events(*events), _events(events[1])) == [3, 1]
    assert _counts_by_status(runtime) == counts_before == ({"success": 1}, {"success": 1})
    assert client.get("/api/v1/tasks/done").json() == run_before
