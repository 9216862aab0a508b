"""Celery with the integration, under a real prefork worker on Redis and on RabbitMQ.

Heavy: each test starts a worker process (marked `worker`)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from celery import Celery

from jobpulse.sdk.client import Client
from jobpulse.sdk.integrations.celery import CeleryIntegration
from tests.integration.sdk.receiver import EventReceiver
from tests.integration.sdk.workers import celery_worker_command, running_worker, worker_log
from tests.services import AMQP_URL, REDIS_URL, require_service

pytestmark = pytest.mark.worker


@pytest.fixture(params=["redis", "rabbitmq"])
def broker_url(request: pytest.FixtureRequest) -> str:
    require_service(request.param)
    return REDIS_URL if request.param == "redis" else AMQP_URL


@pytest.fixture
def celery_setup(
    broker_url: str, receiver: EventReceiver, tmp_path: Path
) -> Iterator[tuple[Celery, EventReceiver, Path]]:
    queue = f"jp-sdk-{uuid.uuid4().hex[:10]}"
    app = Celery("jobpulse_sdk_producer", broker=broker_url)
    app.conf.task_default_queue = queue
    producer = Client(receiver.url, spool_dir=tmp_path / "producer-spool", flush_interval=0.1)
    integration = CeleryIntegration()
    integration.setup(producer)
    log_path = tmp_path / "worker.log"
    command = [*celery_worker_command(queue), "-l", "info"]
    env = {
        "JOBPULSE_URL": receiver.url,
        "JOBPULSE_TEST_BROKER": broker_url,
        "JOBPULSE_TEST_QUEUE": queue,
        "JOBPULSE_SPOOL_DIR": str(tmp_path / "worker-spool"),
    }
    with running_worker(command, log_path, **env):
        try:
            yield app, receiver, log_path
        finally:
            integration.teardown()
            producer.close(timeout=2)
            app.close()


def _events_of(receiver: EventReceiver, job_id: str) -> list[tuple[str, int | None]]:
    return sorted(
        (
            (event["type"], event.get("attempt"))
            for event in receiver.events
            if event["job_id"] == job_id
        ),
        key=lambda pair: (
            pair[1] or 0,
            ["enqueued", "started", "retried", "succeeded", "failed"].index(pair[0]),
        ),
    )


def test_a_real_worker_reports_success_failure_and_retries(
    celery_setup: tuple[Celery, EventReceiver, Path],
) -> None:
    app, receiver, log_path = celery_setup
    ok = app.send_task("sdk.add", args=(2, 3))
    bad = app.send_task("sdk.explode", args=("boom",))
    flaky = app.send_task("sdk.flaky", args=(2,))
    hopeless = app.send_task("sdk.flaky", args=(9,))

    def complete(r: EventReceiver) -> bool:
        finals = {(e["job_id"], e["type"]) for e in r.events}
        return {
            (ok.id, "succeeded"),
            (bad.id, "failed"),
            (flaky.id, "succeeded"),
            (hopeless.id, "failed"),
        } <= finals

    try:
        receiver.wait_for(complete, timeout=60)
    except AssertionError:
        raise AssertionError(worker_log(log_path)) from None

    assert _events_of(receiver, ok.id) == [("enqueued", 1), ("started", 1), ("succeeded", 1)]
    assert _events_of(receiver, bad.id) == [("enqueued", 1), ("started", 1), ("failed", 1)]
    assert _events_of(receiver, flaky.id) == [
        ("enqueued", 1),
        ("started", 1),
        ("retried", 1),
        ("enqueued", 2),
        ("started", 2),
        ("retried", 2),
        ("enqueued", 3),
        ("started", 3),
        ("succeeded", 3),
    ]
    assert _events_of(receiver, hopeless.id)[-1] == ("failed", 4)

    by_key = {(e["job_id"], e["type"], e.get("attempt")): e for e in receiver.events}
    succeeded = by_key[(ok.id, "succeeded", 1)]
    assert succeeded["result"] == 5
    assert succeeded["task_name"] == "sdk.add"
    assert succeeded["worker_id"].endswith("@localhost")
    started = by_key[(ok.id, "started", 1)]
    assert started["args"] == [2, 3]
    assert started["queue"] == app.conf.task_default_queue
    failed = by_key[(bad.id, "failed", 1)]
    assert failed["error"] == "RuntimeError: boom"
    assert "RuntimeError: boom" in failed["traceback"]
    retried = by_key[(flaky.id, "retried", 1)]
    assert retried["error"] == "ValueError: attempt 1 failed"
