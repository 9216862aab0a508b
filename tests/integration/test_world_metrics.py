"""World metrics from the task log: celery-exporter names, capped labels, flat cardinality."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from tests.integration.test_metrics import scrape, series, value

T0 = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def run_events(
    job_id: str, task: str, queue: str, seconds: float, outcome: str = "succeeded"
) -> list[dict[str, Any]]:
    start = T0 + timedelta(minutes=1)
    common = {"job_id": job_id, "task_name": task, "queue": queue}
    return [
        {**common, "type": "enqueued", "ts": T0.isoformat()},
        {**common, "type": "started", "ts": start.isoformat(), "worker_id": "w1"},
        {**common, "type": outcome, "ts": (start + timedelta(seconds=seconds)).isoformat()},
    ]


def post(client: TestClient, events: list[dict[str, Any]]) -> None:
    for first in range(0, len(events), 5000):
        response = client.post("/api/v1/events", json=events[first : first + 5000])
        assert response.status_code == 202, response.text


def test_task_runs_are_counted_by_name_queue_and_state_with_a_runtime_histogram(
    client: TestClient,
) -> None:
    events = [
        *run_events("a1", "reports.build", "default", 0.2),
        *run_events("a2", "reports.build", "default", 3.0),
        *run_events("a3", "reports.build", "default", 1.0, outcome="failed"),
        *run_events("b1", "mail.send", "mail", 0.05),
        {
            "type": "enqueued",
            "job_id": "c1",
            "task_name": "mail.send",
            "queue": "mail",
            "ts": T0.isoformat(),
        },
    ]
    post(client, events)
    families = scrape(client)

    success = {"name": "reports.build", "queue": "default", "state": "success"}
    assert value(families, "jobpulse_task_runs_total", **success) == 2
    assert value(families, "jobpulse_task_runs_total", state="failed") == 1
    assert value(families, "jobpulse_task_runs_active", name="mail.send", state="queued") == 1
    runtime_labels = {"name": "reports.build", "queue": "default"}
    assert value(families, "jobpulse_task_runtime_seconds_count", **runtime_labels) == 3
    assert value(families, "jobpulse_task_runtime_seconds_bucket", le="0.25", **runtime_labels) == 1
    assert value(families, "jobpulse_task_runtime_seconds_bucket", le="1.0", **runtime_labels) == 2
    assert abs(value(families, "jobpulse_task_runtime_seconds_sum", **runtime_labels) - 4.2) < 1e-6


def test_task_label_cardinality_stays_flat_after_ten_thousand_distinct_jobs(
    client: TestClient,
) -> None:
    # More distinct task and queue names than the cap (50) from the start...
    post(client, [e for n in range(60) for e in run_events(f"warm-{n}", f"t{n}", f"q{n}", 1)])
    scrape(client)
    before = series(scrape(client))

    # ... then 10,000 jobs, each with its own id, task name and queue name.
    events = [
        e for n in range(10_000) for e in run_events(f"job-{n}", f"task-{n}", f"queue-{n}", 2)
    ]
    post(client, events)
    families = scrape(client)

    assert len(series(families)) == len(before)
    names = {s.labels["name"] for s in families["jobpulse_task_runs"] if "name" in s.labels}
    assert len(names) <= 51 and "other" in names
    assert not any(
        label.startswith("job-")
        for sample in families["jobpulse_task_runs"]
        for label in sample.labels.values()
    )
    total = sum(
        s.value for s in families["jobpulse_task_runs"] if s.name == "jobpulse_task_runs_total"
    )
    assert total == 10_060
