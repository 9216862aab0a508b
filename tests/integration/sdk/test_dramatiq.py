"""Dramatiq with the middleware, under a real `dramatiq` worker on Redis (`worker` mark)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from dramatiq import Message
from dramatiq.brokers.redis import RedisBroker

from jobpulse.sdk.client import Client
from jobpulse.sdk.integrations.dramatiq import DramatiqIntegration
from tests.integration.sdk.receiver import EventReceiver
from tests.integration.sdk.workers import running_worker, worker_log
from tests.services import REDIS_URL, require_service

pytestmark = pytest.mark.worker
QUEUE = "jp-sdk-dramatiq"


@pytest.fixture
def producer(receiver: EventReceiver, tmp_path: Path) -> Iterator[tuple[RedisBroker, Path]]:
    require_service("redis")
    namespace = f"jp-sdk-{uuid.uuid4().hex[:10]}"
    broker = RedisBroker(url=REDIS_URL, namespace=namespace)
    broker.declare_queue(QUEUE)
    client = Client(receiver.url, spool_dir=tmp_path / "producer-spool", flush_interval=0.1)
    DramatiqIntegration(broker).setup(client)
    log_path = tmp_path / "worker.log"
    env = {
        "JOBPULSE_URL": receiver.url,
        "JOBPULSE_SPOOL_DIR": str(tmp_path / "worker-spool"),
        "JOBPULSE_TEST_BROKER": REDIS_URL,
        "JOBPULSE_TEST_NAMESPACE": namespace,
    }
    command = [
        "python",
        "-m",
        "dramatiq",
        "tests.integration.sdk.apps.dramatiq_app",
        "--processes",
        "1",
        "--threads",
        "2",
    ]
    with running_worker(command, log_path, **env):
        yield broker, log_path
    client.close(timeout=2)
    broker.close()


def _send(broker: RedisBroker, actor: str, *args: object) -> str:
    message = Message(queue_name=QUEUE, actor_name=actor, args=args, kwargs={}, options={})
    broker.enqueue(message)
    return message.message_id


def _events_of(receiver: EventReceiver, job_id: str) -> list[tuple[str, int | None]]:
    order = ["deferred", "enqueued", "started", "retried", "succeeded", "failed"]
    return sorted(
        ((e["type"], e.get("attempt")) for e in receiver.events if e["job_id"] == job_id),
        key=lambda pair: (pair[1] or 0, order.index(pair[0])),
    )


def test_a_real_worker_reports_success_failure_and_retries(
    producer: tuple[RedisBroker, Path], receiver: EventReceiver
) -> None:
    broker, log_path = producer
    ok = _send(broker, "add", 2, 3)
    bad = _send(broker, "explode", "boom")
    flaky = _send(broker, "flaky", 2)
    wanted = {(ok, "succeeded"), (bad, "failed"), (flaky, "succeeded")}
    try:
        receiver.wait_for(lambda r: wanted <= {(e["job_id"], e["type"]) for e in r.events}, 60)
    except AssertionError:
        raise AssertionError(worker_log(log_path)) from None

    assert _events_of(receiver, ok) == [("enqueued", 1), ("started", 1), ("succeeded", 1)]
    assert _events_of(receiver, bad) == [("enqueued", 1), ("started", 1), ("failed", 1)]
    assert _events_of(receiver, flaky) == [
        ("enqueued", 1),
        ("started", 1),
        ("retried", 1),
        ("deferred", 2),
        ("enqueued", 2),
        ("started", 2),
        ("retried", 2),
        ("deferred", 3),
        ("enqueued", 3),
        ("started", 3),
        ("succeeded", 3),
    ]
    by_key = {(e["job_id"], e["type"], e.get("attempt")): e for e in receiver.events}
    assert by_key[(ok, "succeeded", 1)]["result"] == 5
    assert by_key[(bad, "failed", 1)]["error"] == "RuntimeError: boom"
    assert by_key[(flaky, "retried", 1)]["error"] == "ValueError: attempt 1 failed"
