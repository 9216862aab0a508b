"""Task, queue and worker rules over facts from the task log, queue samples and worker
heartbeats (written through their own areas' code), end to end to incidents."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from jobpulse.domain.queues import QueueSample, SourceSample
from jobpulse.runtime import Runtime
from jobpulse.store.queue_sources import SourceSpec, create_source
from jobpulse.store.queues import RecordedSweep, record_sweep
from tests.integration.alerting import alert_tick, incidents, now


def _run(
    job_id: str, task: str, outcome: str, started: Any, seconds: float
) -> list[dict[str, Any]]:
    events = [
        {
            "type": "started",
            "job_id": job_id,
            "task_name": task,
            "queue": "q",
            "ts": started.isoformat(),
        }
    ]
    if outcome != "running":
        finished = started + timedelta(seconds=seconds)
        events.append(
            {
                "type": outcome,
                "job_id": job_id,
                "task_name": task,
                "queue": "q",
                "ts": finished.isoformat(),
            }
        )
    return events


def _send(client: TestClient, events: list[dict[str, Any]]) -> None:
    response = client.post("/api/v1/events", json=events)
    assert response.status_code == 202, response.text


def _rule(client: TestClient, **body: Any) -> None:
    response = client.post("/api/v1/rules", json=body)
    assert response.status_code == 201, response.text


def test_a_task_failing_over_its_threshold_opens_one_incident_per_task(
    client: TestClient, runtime: Runtime
) -> None:
    _rule(
        client,
        name="failing tasks",
        kind="task_failure_rate",
        params={"threshold": 0.5, "min_samples": 4},
        window=600,
    )
    start = now() - timedelta(minutes=5)
    events: list[dict[str, Any]] = []
    for index in range(6):
        outcome = "failed" if index % 3 else "succeeded"
        events += _run(f"charge-{index}", "charge", outcome, start, 1)
        events += _run(f"mail-{index}", "mail", "succeeded", start, 1)
    events += _run("rare-1", "rare", "failed", start, 1)  # too few samples to judge
    _send(client, events)

    alert_tick(runtime)
    (incident,) = incidents(client)
    assert incident["subject"] == "charge" and "4 of 6 runs failed" in incident["summary"]


def test_stuck_and_slow_tasks_fire_on_their_own_limits(
    client: TestClient, runtime: Runtime
) -> None:
    _rule(client, name="stuck", kind="stuck_tasks", params={"max_runtime": 600}, severity="warning")
    _rule(
        client,
        name="slow",
        kind="slow_tasks",
        params={"max_duration": 30, "use_p95": 0},
        scope={"kind": "task", "value": "report*"},
    )
    long_ago = now() - timedelta(minutes=20)
    _send(client, _run("stuck-1", "export", "running", long_ago, 0))
    _send(client, _run("slow-1", "report-daily", "succeeded", now() - timedelta(minutes=2), 90))
    _send(client, _run("slow-2", "other", "succeeded", now() - timedelta(minutes=2), 90))

    alert_tick(runtime)
    found = sorted((i["rule"], i["subject"]) for i in incidents(client))
    assert found == [("slow", "report-daily"), ("stuck", "export")]


def test_a_worker_that_stops_heartbeating_is_gone(client: TestClient, runtime: Runtime) -> None:
    _rule(client, name="gone", kind="worker_gone", params={"max_silence": 60})
    beat = client.post(
        "/api/v1/workers/heartbeat", json={"worker_id": "w1", "hostname": "box", "queues": ["q"]}
    )
    assert beat.status_code == 202, beat.text
    assert alert_tick(runtime).opened == []
    assert len(alert_tick(runtime, now() + timedelta(minutes=2)).opened) == 1
    (incident,) = incidents(client)
    assert incident["subject"] == "w1 on box"


def _sweep(runtime: Runtime, source_id: int, at: Any, depth: int, processed: int) -> None:
    sample = SourceSample(
        taken_at=at,
        queues=[QueueSample("emails", depth, oldest_age_seconds=900, processed_total=processed)],
    )
    runtime.writer.run_sync(record_sweep, RecordedSweep(source_id, 1, sample))


def test_queue_backlog_age_and_stall_rules_read_the_queue_samples(
    client: TestClient, runtime: Runtime
) -> None:
    _rule(client, name="backlog", kind="queue_backlog", params={"max_depth": 100})
    _rule(client, name="old jobs", kind="oldest_job_age", params={"max_age": 600})
    _rule(client, name="stalled", kind="queue_stalled", window=300)
    spec = SourceSpec(name="redis", library="rq", url="redis://127.0.0.1:6379/15")
    source = runtime.writer.run_sync(create_source, (1, spec, now()))
    start = now() - timedelta(minutes=10)
    _sweep(runtime, source["id"], start, 500, 40)
    _sweep(runtime, source["id"], start + timedelta(minutes=9), 600, 40)

    alert_tick(runtime)
    found = sorted((i["rule"], i["subject"]) for i in incidents(client))
    assert found == [("backlog", "emails"), ("old jobs", "emails"), ("stalled", "emails")]
