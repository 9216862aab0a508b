"""World metrics of queues, workers, collectors and the outbox, read from their tables."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Connection, insert

from jobpulse.runtime import Runtime
from jobpulse.store.alerts_tables import alert_outbox
from jobpulse.store.projects import ensure_project
from jobpulse.store.queues_tables import queue_latest, queue_samples, queue_sources, workers
from tests.integration.test_metrics import scrape, value


def add_source(conn: Connection, name: str, now: datetime, error: str | None = None) -> int:
    result = conn.execute(
        insert(queue_sources).values(
            project_id=ensure_project(conn),
            name=name,
            library="celery",
            url="redis://:secret@127.0.0.1:6379/0",
            queues=[],
            options={},
            interval_s=10.0,
            timeout_s=5.0,
            enabled=True,
            last_sample_at=now - timedelta(seconds=30),
            last_error=error,
            created_at=now,
            updated_at=now,
        )
    )
    return int(result.inserted_primary_key[0])


def add_sample(conn: Connection, source_id: int, queue: str, depth: int, now: datetime) -> None:
    result = conn.execute(
        insert(queue_samples).values(
            source_id=source_id,
            queue=queue,
            taken_at=now,
            resolution_s=0,
            ok=True,
            depth=depth,
            oldest_age_s=depth * 1.5,
            consumers=2,
            in_progress=1,
        )
    )
    conn.execute(
        insert(queue_latest).values(
            source_id=source_id,
            queue=queue,
            sample_id=int(result.inserted_primary_key[0]),
            taken_at=now,
        )
    )


def add_worker(conn: Connection, worker_id: str, last_seen: datetime, busy: bool) -> None:
    conn.execute(
        insert(workers).values(
            project_id=ensure_project(conn),
            origin="sdk",
            worker_id=worker_id,
            library="celery",
            queues=["default"],
            current_job="job-1" if busy else None,
            heartbeat_interval_s=10.0,
            first_seen_at=last_seen,
            last_seen_at=last_seen,
        )
    )


def test_queues_workers_and_collectors_in_celery_exporter_style(
    client: TestClient, runtime: Runtime
) -> None:
    now = datetime.now(UTC)
    with runtime.engine.begin() as conn:
        source = add_source(conn, "main", now)
        add_source(conn, "broken", now, error="connection refused")
        add_sample(conn, source, "default", 7, now)
        add_sample(conn, source, "mail", 0, now)
        add_worker(conn, "w1", now, busy=True)
        add_worker(conn, "w2", now, busy=False)
        add_worker(conn, "w3", now - timedelta(hours=1), busy=True)
    families = scrape(client)

    assert value(families, "jobpulse_queue_length", queue_name="default") == 7
    assert value(families, "jobpulse_queue_length", queue_name="mail") == 0
    assert value(families, "jobpulse_queue_oldest_age_seconds", queue_name="default") == 10.5
    assert value(families, "jobpulse_active_consumer_count", queue_name="default") == 2
    assert value(families, "jobpulse_workers", library="celery", state="up") == 2
    assert value(families, "jobpulse_workers", library="celery", state="down") == 1
    assert value(families, "jobpulse_worker_tasks_active", library="celery") == 1
    assert value(families, "jobpulse_collector_sources", state="failing") == 1
    assert value(families, "jobpulse_collector_sources", state="ok") == 1
    assert "secret" not in client.get("/metrics").text


def test_queue_names_beyond_the_cap_are_summed_under_other(
    client: TestClient, runtime: Runtime
) -> None:
    now = datetime.now(UTC)
    with runtime.engine.begin() as conn:
        source = add_source(conn, "many", now)
        for n in range(80):
            add_sample(conn, source, f"queue-{n:03d}", n, now)
    families = scrape(client)
    labels = {s.labels["queue_name"] for s in families["jobpulse_queue_length"] if s.labels}
    assert len(labels) == 51 and "other" in labels
    assert "queue-079" in labels and "queue-000" not in labels
    assert value(families, "jobpulse_queue_length", queue_name="other") == sum(range(30))


def test_outbox_depth_and_the_age_of_the_oldest_pending_notice(
    client: TestClient, runtime: Runtime
) -> None:
    now = datetime.now(UTC)
    with runtime.engine.begin() as conn:
        for n, status in enumerate(["pending", "pending", "delivered"]):
            conn.execute(
                insert(alert_outbox).values(
                    project_id=ensure_project(conn),
                    notice_id=f"n{n}",
                    kind="firing",
                    payload={},
                    status=status,
                    attempts=0,
                    next_attempt_at=now,
                    created_at=now - timedelta(minutes=10 - n),
                )
            )
    families = scrape(client)
    assert value(families, "jobpulse_outbox_notices", status="pending") == 2
    assert value(families, "jobpulse_outbox_notices", status="delivered") == 1
    assert 590 <= value(families, "jobpulse_outbox_oldest_pending_age_seconds") <= 700
