"""RQ with the integration, under a real forking worker on Redis (heavy: `worker` mark)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis import Redis
from rq import Queue, Retry

from jobpulse.sdk.client import Client
from jobpulse.sdk.integrations.rq import RQIntegration
from tests.integration.sdk.apps import rq_app
from tests.integration.sdk.receiver import EventReceiver
from tests.integration.sdk.workers import running_worker, worker_log
from tests.services import REDIS_URL, require_service

pytestmark = pytest.mark.worker


@pytest.fixture
def rq_queue(receiver: EventReceiver, tmp_path: Path) -> Iterator[tuple[Queue, Path]]:
    require_service("redis")
    name = f"jp-sdk-{uuid.uuid4().hex[:10]}"
    connection = Redis.from_url(REDIS_URL)
    producer = Client(receiver.url, spool_dir=tmp_path / "producer-spool", flush_interval=0.1)
    RQIntegration().setup(producer)
    log_path = tmp_path / "worker.log"
    env = {"JOBPULSE_URL": receiver.url, "JOBPULSE_SPOOL_DIR": str(tmp_path / "worker-spool")}
    command = ["python", "-m", "tests.integration.sdk.apps.rq_app", REDIS_URL, name]
    with running_worker(command, log_path, **env):
        yield Queue(name, connection=connection), log_path
    producer.close(timeout=2)
    connection.close()


def _events_of(receiver: EventReceiver, job_id: str) -> list[tuple[str, int | None]]:
    order = ["enqueued", "started", "retried", "succeeded", "failed"]
    return sorted(
        ((e["type"], e.get("attempt")) for e in receiver.events if e["job_id"] == job_id),
        key=lambda pair: (pair[1] or 0, order.index(pair[0])),
    )


def test_a_real_worker_reports_success_failure_and_retries(
    rq_queue: tuple[Queue, Path], receiver: EventReceiver
) -> None:
    queue, log_path = rq_queue
    ok = queue.enqueue(rq_app.add, 2, 3)
    bad = queue.enqueue(rq_app.explode, "boom")
    flaky = queue.enqueue(rq_app.flaky, 2, retry=Retry(max=3))
    hopeless = queue.enqueue(rq_app.flaky, 9, retry=Retry(max=1))
    wanted = {
        (ok.id, "succeeded"),
        (bad.id, "failed"),
        (flaky.id, "succeeded"),
        (hopeless.id, "failed"),
    }
    try:
        receiver.wait_for(lambda r: wanted <= {(e["job_id"], e["type"]) for e in r.events}, 60)
    except AssertionError:
        raise AssertionError(worker_log(log_path)) from None

    assert _events_of(receiver, ok.id) == [("enqueued", 1), ("started", 1), ("succeeded", 1)]
    assert _events_of(receiver, bad.id) == [("enqueued", 1), ("started", 1), ("failed", 1)]
    assert _events_of(receiver, flaky.id) == [
        ("enqueued", 1),
        ("started", 1),
        ("retried", 1),
        ("started", 2),
        ("retried", 2),
        ("started", 3),
        ("succeeded", 3),
    ]
    assert _events_of(receiver, hopeless.id)[-2:] == [("started", 2), ("failed", 2)]

    by_key = {(e["job_id"], e["type"], e.get("attempt")): e for e in receiver.events}
    assert by_key[(ok.id, "succeeded", 1)]["result"] == 5
    assert by_key[(ok.id, "started", 1)]["args"] == [2, 3]
    assert by_key[(ok.id, "started", 1)]["queue"] == queue.name
    assert by_key[(ok.id, "started", 1)]["task_name"].endswith("rq_app.add")
    failed = by_key[(bad.id, "failed", 1)]
    assert failed["error"] == "RuntimeError: boom"
    assert "RuntimeError: boom" in failed["traceback"]
    assert by_key[(flaky.id, "retried", 1)]["error"] == "ValueError: run 1 failed"
