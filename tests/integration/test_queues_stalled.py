"""A worker that is alive but blocked makes its queue `stalled` (RQ, real worker, API)."""

from __future__ import annotations

import os
import uuid
from datetime import timedelta
from pathlib import Path

import redis
import rq
from fastapi.testclient import TestClient

from jobpulse.runtime import Runtime
from tests.integration.queue_fixtures import name, now, redis_url, tool, wait_until, worker_process

__all__ = ["name", "redis_url"]


def _queue_view(client: TestClient, queue: str) -> dict:
    response = client.get("/api/v1/queues")
    assert response.status_code == 200
    (view,) = [q for q in response.json()["queues"] if q["name"] == queue]
    return view


def test_a_blocked_worker_makes_its_queue_stalled_within_two_samples(
    runtime: Runtime, client: TestClient, redis_url: str, name: str, tmp_path: Path
) -> None:
    source = {
        "name": "jobs",
        "library": "rq",
        "url": redis_url,
        "queues": [name],
        "interval": 10,
        "options": {"stall_window_s": 10},
    }
    assert client.post("/api/v1/sources", json=source).status_code == 201
    queue = rq.Queue(name, connection=redis.Redis.from_url(redis_url))
    queue.enqueue("tests.integration.queue_apps.jobs.block", 120)
    for _ in range(3):
        queue.enqueue("tests.integration.queue_apps.jobs.noop")
    marker = tmp_path / "started"
    command = [tool("rq"), "worker", "-u", redis_url, name]
    with worker_process(command, {"JOBPULSE_TEST_BLOCK_MARKER": str(marker)}):
        wait_until(marker.exists, what="the blocking job to start")
        start = now()
        runtime.collectors.clock = lambda: start - timedelta(seconds=20)
        runtime.collectors.sweep_now()
        assert _queue_view(client, name)["stalled"] is False

        runtime.collectors.clock = lambda: start - timedelta(seconds=9)
        runtime.collectors.sweep_now()
        view = _queue_view(client, name)

        workers = client.get("/api/v1/workers", params={"status": "alive"}).json()["workers"]
    assert view["depth"] == 3
    assert view["in_progress"] == 1
    assert view["stalled"] is True, view["stalled_reason"]
    assert view["alive_workers"] >= 1
    assert any(name in w["queues"] and w["current_job"] for w in workers)
    assert os.path.exists(marker)


def test_a_queue_that_drains_is_not_stalled(
    runtime: Runtime, client: TestClient, redis_url: str, name: str
) -> None:
    source = {"name": "jobs", "library": "rq", "url": redis_url, "queues": [name], "interval": 5}
    assert client.post("/api/v1/sources", json=source).status_code == 201
    queue = rq.Queue(name, connection=redis.Redis.from_url(redis_url))
    for _ in range(4):
        queue.enqueue("tests.integration.queue_apps.jobs.noop")
    start = now()
    runtime.collectors.clock = lambda: start - timedelta(seconds=8)
    runtime.collectors.sweep_now()
    assert _queue_view(client, name)["depth"] == 4

    with worker_process([tool("rq"), "worker", "--burst", "-u", redis_url, name]) as worker:
        worker.wait(60)
    runtime.collectors.clock = lambda: start - timedelta(seconds=1)
    runtime.collectors.sweep_now()

    view = _queue_view(client, name)
    assert view["depth"] == 0
    assert view["stalled"] is False


def test_a_blocked_celery_worker_on_rabbitmq_makes_its_queue_stalled(
    runtime: Runtime, client: TestClient, tmp_path: Path
) -> None:
    # RabbitMQ counts the blocked worker as a live consumer: that is its "alive" claim.
    from celery import Celery

    from tests.integration.queue_fixtures import AMQP_URL
    from tests.services import require_service

    require_service("rabbitmq")
    queue = f"jpq-{uuid.uuid4().hex[:10]}"
    app = Celery("jobpulse_test", broker=AMQP_URL)
    app.send_task("jobpulse_test.block", args=[120], queue=queue)
    for _ in range(3):
        app.send_task("jobpulse_test.noop", queue=queue)
    source = {
        "name": "rabbit",
        "library": "celery",
        "url": AMQP_URL,
        "queues": [queue],
        "interval": 10,
    }
    assert client.post("/api/v1/sources", json=source).status_code == 201
    marker = tmp_path / "started"
    command = [
        *(tool("celery"), "-A", "tests.integration.queue_apps.celery_app", "worker"),
        *("-Q", queue, "--pool", "solo", "--prefetch-multiplier", "1"),
        *("--without-gossip", "--without-mingle"),
    ]
    env = {"JOBPULSE_TEST_BROKER_URL": AMQP_URL, "JOBPULSE_TEST_BLOCK_MARKER": str(marker)}
    try:
        with worker_process(command, env):
            wait_until(marker.exists, timeout=60, what="the blocking task to start")
            start = now()
            for seconds_ago in (20, 9):
                runtime.collectors.clock = lambda ago=seconds_ago: start - timedelta(seconds=ago)
                runtime.collectors.sweep_now()
            view = _queue_view(client, queue)
    finally:
        _delete_amqp_queue(queue)
    # Ready messages: the worker holds one more, prefetched and unacknowledged.
    assert (view["depth"], view["consumers"]) == (2, 1)
    assert view["stalled"] is True, view["stalled_reason"]


def _delete_amqp_queue(queue: str) -> None:
    import amqp

    connection = amqp.Connection(host="127.0.0.1:5672", userid="guest", password="guest")
    connection.connect()
    channel = connection.channel()
    channel.queue_delete(queue)
    channel.exchange_delete(queue)  # Celery declared a direct exchange named after it
    connection.close()
