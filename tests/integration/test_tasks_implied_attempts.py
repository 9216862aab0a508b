"""Runs whose row implies their one attempt store no attempt row, on SQLite and PostgreSQL.

Nearly every run is tried once and its row says everything about that try; storing it again
as an attempt row cost a row and an index entry per run. What the API shows, and what later
events fold into, must not depend on whether the attempt was stored or implied.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from jobpulse.runtime import Runtime
from tests.integration.test_tasks_api import event, lifecycle, post

# Fields of a run's detail that differ between two jobs given the same events.
_IDENTITY = ("id", "job_id")


def _attempt_rows(runtime: Runtime, job_id: str) -> int:
    with runtime.engine.connect() as conn:
        return int(
            conn.execute(
                text(
                    "SELECT COUNT(*) FROM task_attempts JOIN task_runs "
                    "ON task_runs.id = task_attempts.run_id WHERE task_runs.job_id = :job"
                ),
                {"job": job_id},
            ).scalar_one()
        )


def _detail(client: TestClient, job_id: str) -> dict[str, Any]:
    found = client.get(f"/api/v1/tasks/{job_id}")
    assert found.status_code == 200, found.text
    return {k: v for k, v in found.json().items() if k not in _IDENTITY}


def _as_job(events: list[dict[str, Any]], job_id: str) -> list[dict[str, Any]]:
    return [{**e, "job_id": job_id} for e in events]


def test_a_run_tried_once_stores_no_attempt_row_and_still_shows_its_attempt(
    client: TestClient, runtime: Runtime
) -> None:
    post(client, lifecycle("once", 100, 2.5, result={"rows": 3}))
    post(client, lifecycle("broke", 90, 1.0, "failed", error="KeyError: 'x'", traceback="T"))
    assert _attempt_rows(runtime, "once") == _attempt_rows(runtime, "broke") == 0
    (attempt,) = client.get("/api/v1/tasks/once").json()["attempts"]
    assert attempt["attempt"] == 1 and attempt["outcome"] == "succeeded"
    assert attempt["worker_id"] == "w1" and attempt["result"] == {"rows": 3}
    assert attempt["duration_ms"] == pytest.approx(2500)
    assert attempt["queued_at"] is not None and attempt["error"] is None
    (attempt,) = client.get("/api/v1/tasks/broke").json()["attempts"]
    assert (attempt["outcome"], attempt["error"], attempt["traceback"]) == (
        "failed",
        "KeyError: 'x'",
        "T",
    )
    assert attempt["result"] is None


def test_runs_their_row_cannot_describe_keep_every_attempt(
    client: TestClient, runtime: Runtime
) -> None:
    post(
        client,
        [
            event("enqueued", "retried", 60),
            event("started", "retried", 59),
            event("retried", "retried", 58, error="TimeoutError: 30s", retry_after=5),
            event("started", "retried", 50, attempt=2),
            event("succeeded", "retried", 49, attempt=2),
            event("deferred", "deferred", 40),
            event("started", "second-only", 30, attempt=2),
        ],
    )
    assert _attempt_rows(runtime, "retried") == 2
    assert _attempt_rows(runtime, "deferred") == 1
    assert _attempt_rows(runtime, "second-only") == 1
    run = client.get("/api/v1/tasks/retried").json()
    assert [a["outcome"] for a in run["attempts"]] == ["retried", "succeeded"]
    assert run["attempts"][0]["retry_after"] == 5 and run["job_retry_after"] == 5
    assert client.get("/api/v1/tasks/deferred").json()["status"] == "deferred"
    assert [a["attempt"] for a in client.get("/api/v1/tasks/second-only").json()["attempts"]] == [2]


# A run that is one plain try until its last events arrive: a late retry of attempt 1
# and a second attempt, and a deferral of attempt 1 reported after it ran.
_TURNING = [
    *lifecycle("j", 120, 1.0),
    event("retried", "j", 119, error="TimeoutError: 30s", retry_after=5),
    event("started", "j", 100, attempt=2, worker_id="w2"),
    event("succeeded", "j", 99, attempt=2, result=[1]),
]
_DEFERRED_LATE = [*lifecycle("j", 80, 0.5), event("deferred", "j", 81)]


@pytest.mark.parametrize(
    "events",
    [lifecycle("j", 60, 0.75, result={"n": 1}), _TURNING, _DEFERRED_LATE],
    ids=["plain", "retried-late", "deferred-late"],
)
def test_any_split_of_a_jobs_events_over_requests_gives_the_run_of_one_request(
    client: TestClient, runtime: Runtime, events: list[dict[str, Any]]
) -> None:
    post(client, _as_job(events, "whole"))
    expected = _detail(client, "whole")
    orders = list(itertools.permutations(range(len(events))))
    # Every order of one event per request for short lifecycles, a spread of them otherwise.
    picked = orders if len(orders) <= 24 else orders[:: len(orders) // 24]
    for number, order in enumerate(picked):
        job_id = f"split-{number}"
        for index in order:
            post(client, _as_job([events[index]], job_id))
        assert _detail(client, job_id) == expected, order
    # First the plain part (stored without attempt rows), then the rest in one request.
    post(client, _as_job(events[:3], "late"))
    post(client, _as_job(events[3:], "late"))
    assert _detail(client, "late") == expected
    rows = {_attempt_rows(runtime, job) for job in ("whole", "late", "split-0")}
    assert len(rows) == 1  # nor, for these events, how many attempt rows it keeps
