"""The task log API (events in, TaskLog queries out), on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from jobpulse.runtime import Runtime
from jobpulse.store.tasks_retention import prune, request_for
from jobpulse.store.tasks_tables import task_attempts, task_runs

NOW = datetime.now(UTC).replace(microsecond=0)


def at(seconds_ago: float) -> str:
    return (NOW - timedelta(seconds=seconds_ago)).isoformat()


def event(kind: str, job_id: str, seconds_ago: float, **fields: Any) -> dict[str, Any]:
    return {
        "type": kind,
        "job_id": job_id,
        "task_name": fields.pop("task_name", "reports.build"),
        "queue": fields.pop("queue", "default"),
        "ts": at(seconds_ago),
        **fields,
    }


def lifecycle(
    job_id: str, seconds_ago: float, duration_s: float, outcome: str = "succeeded", **fields: Any
) -> list[dict[str, Any]]:
    started = seconds_ago - 1
    return [
        event("enqueued", job_id, seconds_ago, args=[1], kwargs={"password": "hunter2"}, **fields),
        event("started", job_id, started, worker_id="w1", **fields),
        event(outcome, job_id, started - duration_s, **fields),
    ]


def post(client: TestClient, events: list[dict[str, Any]]) -> None:
    response = client.post("/api/v1/events", json=events)
    assert response.status_code == 202, response.text


def test_a_lifecycle_posted_out_of_order_gives_one_correct_run(client: TestClient) -> None:
    events = lifecycle("job-1", 100, 2.5, result={"rows": 3}, max_retries=3)
    post(client, [events[2]])
    post(client, [events[0], events[1]])
    listed = client.get("/api/v1/tasks", params={"job_id": "job-1"}).json()
    assert listed["count"] == 1
    run = client.get(f"/api/v1/tasks/{listed['results'][0]['id']}").json()
    assert run["status"] == "success" and run["status_display"] == "Success"
    assert run["success"] is True and run["result"] == {"rows": 3}
    assert run["duration_ms"] == pytest.approx(2500) and run["duration_seconds"] == 2.5
    assert run["kwargs"] == {"password": "[redacted]"}
    assert run["worker_id"] == "w1" and run["job_retry"] == 3
    assert run["enqueue_time"] == at(100).replace("+00:00", "Z")
    assert [a["outcome"] for a in run["attempts"]] == ["succeeded"]


def test_replayed_events_change_nothing(client: TestClient) -> None:
    events = lifecycle("job-2", 50, 1.0)
    for _ in range(3):
        post(client, events + events)
    stats = client.get("/api/v1/tasks/stats").json()
    assert stats["total"] == 1 and stats["successful"] == 1


def test_retries_are_kept_as_attempts(client: TestClient) -> None:
    post(
        client,
        [
            event("enqueued", "job-3", 60),
            event("started", "job-3", 59, attempt=1),
            event(
                "retried", "job-3", 58, attempt=1, error="TimeoutError: after 30s", retry_after=5
            ),
            event("started", "job-3", 50, attempt=2),
        ],
    )
    run = client.get("/api/v1/tasks/job-3").json()
    assert run["status"] == "in_progress" and run["job_retries"] == 1
    post(client, [event("failed", "job-3", 40, attempt=2, error="TimeoutError: after 31s")])
    run = client.get("/api/v1/tasks/job-3").json()
    assert run["status"] == "failed" and run["error_message"] == "TimeoutError: after 31s"
    assert [a["outcome"] for a in run["attempts"]] == ["retried", "failed"]
    assert run["job_retry_after"] == 5


def test_the_seed_example_queries_return_the_right_rows(client: TestClient) -> None:
    events = lifecycle("ok-recent", 3600, 0.2)
    events += lifecycle("slow", 7200, 90.0, task_name="etl.load")
    events += lifecycle("failed-recent", 1800, 1.0, "failed", error="TimeoutError: read timeout")
    events += lifecycle("failed-old", 3 * 86400, 0.5, "failed", error="ValueError: bad")
    post(client, events)
    day_ago = (NOW - timedelta(hours=24)).isoformat()
    failed = client.get("/api/v1/tasks", params={"is_failed": True, "created_after": day_ago})
    assert [r["job_id"] for r in failed.json()["results"]] == ["failed-recent"]
    slow = client.get("/api/v1/tasks", params={"ordering": "-duration_ms", "page_size": 2}).json()
    assert [r["job_id"] for r in slow["results"]] == ["slow", "failed-recent"]
    assert slow["next"] is not None and slow["count"] == 4
    found = client.get("/api/v1/tasks", params={"search": "timeout"}).json()
    assert [r["job_id"] for r in found["results"]] == ["failed-recent"]
    by_name = client.get("/api/v1/tasks", params={"task_name": "ETL", "status_in": "success"})
    assert [r["job_id"] for r in by_name.json()["results"]] == ["slow"]


def test_search_looks_at_the_newest_runs_of_its_window(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jobpulse.store import tasks_queries

    monkeypatch.setattr(tasks_queries, "SEARCH_WINDOW_RUNS", 3)
    events = lifecycle("old-timeout", 5000, 1.0, "failed", error="TimeoutError: slow")
    for i in range(5):
        events += lifecycle(f"new-{i}", 100 + i, 1.0, "failed", error=f"TimeoutError: {i}")
    post(client, events)
    found = client.get("/api/v1/tasks", params={"search": "timeout"}).json()
    assert [r["job_id"] for r in found["results"]] == ["new-0", "new-1", "new-2"]
    assert found["searched_since"] == at(102).replace("+00:00", "Z")
    assert found["count"] == 3 and found["count_exact"] is False
    older = {"search": "timeout", "created_before": at(4000)}
    found = client.get("/api/v1/tasks", params=older).json()
    assert [r["job_id"] for r in found["results"]] == ["old-timeout"]
    assert found["searched_since"] is None and found["count_exact"] is True


def test_cursor_paging_walks_every_row_once(client: TestClient) -> None:
    events: list[dict[str, Any]] = []
    for i in range(23):
        events += lifecycle(f"page-{i}", 1000 + i * 10, (i % 5) * 0.5)
    events += [event("enqueued", "queued-only", 10)]
    post(client, events)
    for ordering in ("-created_at", "-duration_ms", "duration_ms", "task_name"):
        seen: list[str] = []
        params: dict[str, Any] = {"ordering": ordering, "page_size": 5}
        while True:
            page = client.get("/api/v1/tasks", params=params).json()
            seen += [r["job_id"] for r in page["results"]]
            if not page["next_cursor"]:
                break
            params["cursor"] = page["next_cursor"]
        assert sorted(seen) == sorted({e["job_id"] for e in events}), ordering
    assert seen[-1] in {f"page-{i}" for i in range(23)} | {"queued-only"}


def _walk(client: TestClient, params: dict[str, Any], by_cursor: bool) -> list[str]:
    seen: list[str] = []
    params = {**params, "page_size": 4}
    while True:
        page = client.get("/api/v1/tasks", params=params).json()
        seen += [r["job_id"] for r in page["results"]]
        if not page["next_cursor"]:
            return seen
        if by_cursor:
            params["cursor"] = page["next_cursor"]
        else:
            params["page"] = params.get("page", 1) + 1


@pytest.mark.parametrize("by_cursor", [False, True])
def test_lists_of_several_statuses_or_queues_page_newest_first(
    client: TestClient, by_cursor: bool
) -> None:
    events: list[dict[str, Any]] = []
    for i in range(30):
        outcome = ("succeeded", "failed", "started")[i % 3]
        queue = ("mail", "reports", "default")[i % 3 if i % 2 else 2]
        ev = lifecycle(f"r-{i:02d}", 1000 - i * 10, 1.0, outcome, queue=queue)
        events += ev[:2] if outcome == "started" else ev
    post(client, events)
    everything = client.get("/api/v1/tasks", params={"page_size": 100}).json()["results"]
    newest_first = [r["job_id"] for r in everything]
    assert newest_first == [f"r-{i:02d}" for i in reversed(range(30))]
    cases = [
        ({"status_in": "failed,in_progress"}, {"failed", "in_progress"}, None),
        ({"is_completed": False}, {"in_progress"}, None),
        ({"is_successful": False}, {"failed", "in_progress"}, None),
        ({"queue_name_in": "mail,reports"}, None, {"mail", "reports"}),
        ({"status_in": "failed,success", "queue_name_in": "mail,default"}, {"failed", "success"},
         {"mail", "default"}),
    ]  # fmt: skip
    for params, statuses, queues in cases:
        expected = [
            r["job_id"]
            for r in everything
            if (statuses is None or r["status"] in statuses)
            and (queues is None or r["queue_name"] in queues)
        ]
        assert expected and _walk(client, params, by_cursor) == expected, params
        count = client.get("/api/v1/tasks", params=params).json()["count"]
        assert count == len(expected), params
    contradiction = {"status": "success", "is_failed": True}
    assert client.get("/api/v1/tasks", params=contradiction).json()["count"] == 0


def test_stats_percentiles_match_numpy(client: TestClient) -> None:
    rng = random.Random(7)
    durations = [rng.lognormvariate(4, 1.2) / 1000 for _ in range(600)]
    events: list[dict[str, Any]] = []
    for i, seconds in enumerate(durations):
        events += lifecycle(f"p-{i}", 3000 + i, seconds)
    post(client, events)
    stats = client.get("/api/v1/tasks/stats", params={"period_hours": 24}).json()
    assert stats["total"] == 600 and stats["success_rate"] == 100.0
    millis = np.array(durations) * 1000
    for q in (50, 95, 99):
        expected = float(np.percentile(millis, q, method="lower"))
        assert stats[f"p{q}_duration_ms"] == pytest.approx(expected, rel=0.02), q
    assert stats["avg_duration_ms"] == pytest.approx(float(millis.mean()), rel=1e-6)


def _histograms(runtime: Runtime) -> tuple[dict[Any, int], dict[Any, int]]:
    """Per-task histograms summed per project, and the per-project histograms, nonzero."""
    with runtime.engine.connect() as conn:
        summed = conn.execute(
            text(
                "SELECT project_id, period, bucket_start, bucket, SUM(count) "
                "FROM task_rollup_durations GROUP BY project_id, period, bucket_start, bucket"
            )
        ).all()
        stored = conn.execute(
            text(
                "SELECT project_id, period, bucket_start, bucket, count FROM task_project_durations"
            )
        ).all()
    return (
        {tuple(row[:4]): row[4] for row in summed if row[4]},
        {tuple(row[:4]): row[4] for row in stored if row[4]},
    )


def test_project_histograms_follow_the_per_task_ones(client: TestClient, runtime: Runtime) -> None:
    rng = random.Random(3)
    events: list[dict[str, Any]] = []
    for i in range(200):
        events += lifecycle(
            f"h-{i}", 60 + i * 37, rng.lognormvariate(0, 1.5), task_name=f"task.{i % 7}"
        )
    finishes = [e for e in events if e["type"] == "succeeded"]
    # Finishes first, then the rest: every run's duration (and bucket) changes once.
    post(client, finishes[::2])
    post(client, [e for e in events if e not in finishes[::2]])
    post(client, lifecycle("old", 10 * 86400, 3.0))
    summed, stored = _histograms(runtime)
    assert summed == stored and sum(stored.values()) == 2 * 201
    per_task = [
        client.get("/api/v1/tasks/stats", params={"task_name": f"task.{i}"}).json()["total"]
        for i in range(7)
    ]
    assert sum(per_task) == client.get("/api/v1/tasks/stats").json()["total"] == 200
    prune(runtime.writer, request_for(NOW, days=5, rollup_days=6))
    summed, stored = _histograms(runtime)
    assert summed == stored and sum(stored.values()) == 2 * 200


def test_timeline_overview_errors_and_related(client: TestClient) -> None:
    events = lifecycle("t-1", 2 * 3600, 1.0, queue="mail")
    events += lifecycle("t-2", 3600, 1.0, "failed", error="KeyError: user 1234 missing")
    events += lifecycle("t-3", 1800, 1.0, "failed", error="KeyError: user 99 missing")
    post(client, events)
    timeline = client.get("/api/v1/tasks/timeline", params={"period_hours": 6}).json()
    assert sum(b["total"] for b in timeline["results"]) == 3
    assert sum(b["failed"] for b in timeline["results"]) == 2
    daily = client.get("/api/v1/tasks/timeline", params={"interval": "day", "period_hours": 48})
    assert sum(b["total"] for b in daily.json()["results"]) == 3
    overview = client.get("/api/v1/tasks/overview").json()
    assert overview["total_tasks"] == 3 and overview["recent_failures"] == 2
    assert sorted(overview["active_queues"]) == ["default", "mail"]
    errors = client.get("/api/v1/tasks/errors").json()["results"]
    assert len(errors) == 1 and errors[0]["count"] == 2
    assert errors[0]["error_type"] == "KeyError" and errors[0]["message"] == "user <n> missing"
    related = client.get("/api/v1/tasks/t-1/related").json()
    assert {r["job_id"] for r in related["results"]} == {"t-2", "t-3"}


def test_health_answers_503_past_a_threshold(client: TestClient) -> None:
    post(client, lifecycle("h-1", 600, 1.0))
    assert client.get("/api/v1/tasks/health").status_code == 200
    post(client, [event("started", "stuck", 7200)])
    response = client.get("/api/v1/tasks/health", params={"stuck_minutes": 60})
    assert response.status_code == 503
    assert response.json()["stuck_tasks"] == 1 and not response.json()["healthy"]


def test_runs_are_scoped_to_the_key_project(client: TestClient, runtime: Runtime) -> None:
    from jobpulse.store.projects import create_key, ensure_project

    post(client, lifecycle("mine", 100, 1.0))
    with runtime.engine.begin() as conn:
        other = create_key(conn, ensure_project(conn, "other"), read_only=False)
    listed = client.get("/api/v1/tasks", headers={"Authorization": f"Bearer {other}"}).json()
    assert listed["count"] == 0


def test_prune_drops_old_runs_but_keeps_hourly_rollups(
    client: TestClient, runtime: Runtime
) -> None:
    def retried_once(job_id: str, seconds_ago: float) -> list[dict[str, Any]]:
        """Two attempts: runs like these keep attempt rows (one try alone keeps none)."""
        first = lifecycle(job_id, seconds_ago, 1.0, "retried")
        return [*first, *lifecycle(job_id, seconds_ago - 10, 1.0, attempt=2)[1:]]

    post(client, retried_once("old", 10 * 86400) + retried_once("new", 100))
    result = prune(runtime.writer, request_for(NOW, days=5, rollup_days=400))
    assert result.runs == 1
    assert [r["job_id"] for r in client.get("/api/v1/tasks").json()["results"]] == ["new"]
    with runtime.engine.begin() as conn:  # no foreign key cascades them on PostgreSQL
        kept = conn.execute(select(task_attempts.c.run_id)).scalars().all()
        assert kept == 2 * conn.execute(select(task_runs.c.id)).scalars().all()
    stats = client.get("/api/v1/tasks/stats", params={"period_hours": 24 * 30}).json()
    assert stats["total"] == 2


def test_the_prune_command_deletes_runs_older_than_the_days_given(
    client: TestClient, database_url: str
) -> None:
    from click.testing import CliRunner

    from jobpulse.cli import main

    post(client, lifecycle("ancient", 40 * 86400, 1.0) + lifecycle("fresh", 100, 1.0))
    result = CliRunner().invoke(main, ["prune", "--days", "30", "--database", database_url])
    assert result.exit_code == 0, result.output
    assert "pruned 1 task runs" in result.output
    assert [r["job_id"] for r in client.get("/api/v1/tasks").json()["results"]] == ["fresh"]
    bad = CliRunner().invoke(main, ["prune", "--days", "-1", "--database", database_url])
    assert bad.exit_code == 2


def test_the_pruner_service_prunes_on_start(runtime: Runtime, client: TestClient) -> None:
    post(client, lifecycle("ancient", 400 * 86400, 1.0))
    assert runtime.tasks.pruner.run_once().runs == 1


@pytest.mark.parametrize("by_cursor", [False, True])
def test_slowest_first_is_exact_across_and_within_duration_octaves(
    client: TestClient, by_cursor: bool
) -> None:
    # Durations in seconds: several per octave, ties, octave edges and runs still going.
    durations = [0.0005, 0.001, 0.0015, 0.002, 0.0021, 0.75, 1.0, 1.0, 1.5, 2.0, 2.5, 3.9, 4.0]
    durations += [250.0, 600.0, 600.0, 0.03, 0.016, 0.017]
    events: list[dict[str, Any]] = []
    for i, duration in enumerate(durations):
        events += lifecycle(f"d-{i:02d}", 2000 - i, duration)
    events += [event("started", f"running-{i}", 100 + i) for i in range(3)]
    post(client, events)
    finished = sorted(enumerate(durations), key=lambda item: (-item[1], -item[0]))
    expected = [f"d-{i:02d}" for i, _ in finished]
    expected += [f"running-{i}" for i in (2, 1, 0)]  # no duration: last, newest id first
    assert _walk(client, {"ordering": "-duration_ms"}, by_cursor) == expected
