"""Celery queues on the real Redis (priorities, key prefix, discovery, unacked) and on the
real RabbitMQ (passive declare), with a real `celery worker` draining them."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from celery import Celery

from jobpulse.collectors import SourceConfig, make_collector
from tests.integration.queue_fixtures import (
    AMQP_URL,
    name,
    now,
    queue_of,
    redis_url,
    sample,
    tool,
    wait_until,
    worker_process,
)
from tests.services import require_service

__all__ = ["name", "redis_url"]


def _app(broker: str, prefix: str = "") -> Celery:
    app = Celery("jobpulse_test", broker=broker)
    app.conf.broker_transport_options = {"global_keyprefix": prefix}
    return app


def test_celery_redis_counts_every_priority_list_under_a_key_prefix(
    redis_url: str, name: str
) -> None:
    prefix = f"{name}:"
    app = _app(redis_url, prefix)
    for priority in (0, 0, 4, 7, 9):
        app.send_task("jobpulse_test.noop", queue=name, priority=priority)
    app.send_task("jobpulse_test.noop", queue=f"{name}-other")
    config = SourceConfig(
        name="c", library="celery", url=redis_url, options={"global_keyprefix": prefix}
    )
    collector = make_collector(config)
    first_look = now()

    found = collector.sample(first_look)
    assert {q.queue for q in found.queues} == {name, f"{name}-other"}
    assert queue_of(found, name).depth == 5
    assert queue_of(found, f"{name}-other").depth == 1

    later = collector.sample(first_look + timedelta(seconds=25))
    collector.close()
    assert queue_of(later, name).oldest_age_seconds == 25


def test_a_celery_worker_drains_a_redis_queue(redis_url: str, name: str) -> None:
    prefix = f"{name}:"
    app = _app(redis_url, prefix)
    for _ in range(4):
        app.send_task("jobpulse_test.noop", queue=name)
    config = SourceConfig(
        name="c", library="celery", url=redis_url, options={"global_keyprefix": prefix}
    )
    assert queue_of(sample(config), name).depth == 4

    command = [
        *(tool("celery"), "-A", "tests.integration.queue_apps.celery_app", "worker"),
        *("-Q", name, "--pool", "solo", "--without-gossip", "--without-mingle"),
    ]
    env = {"JOBPULSE_TEST_BROKER_URL": redis_url, "JOBPULSE_TEST_KEYPREFIX": prefix}
    with worker_process(command, env):
        wait_until(
            lambda: (q := queue_of(sample(config), name)).depth == 0 and q.in_progress == 0,
            timeout=60,
            what="celery to drain the queue",
        )


def test_celery_redis_in_flight_work_is_read_from_unacked_index(redis_url: str, name: str) -> None:
    import json

    import redis

    prefix = f"{name}:"
    client = redis.Redis.from_url(redis_url)
    _app(redis_url, prefix).send_task("jobpulse_test.noop", queue=name)
    # What kombu's QoS.append does when a worker takes a message: the message moves from the
    # list to `unacked` (tag → [message, exchange, routing key]), timed in `unacked_index`.
    raw = client.rpop(f"{prefix}{name}")
    tag = json.loads(raw)["properties"]["delivery_tag"]
    delivered = now().timestamp() - 70
    client.zadd(f"{prefix}unacked_index", {tag: delivered})
    client.hset(f"{prefix}unacked", tag, json.dumps([json.loads(raw), name, name]))
    config = SourceConfig(
        name="c", library="celery", url=redis_url, options={"global_keyprefix": prefix}
    )

    found = queue_of(sample(config), name)
    client.close()

    assert (found.depth, found.in_progress) == (0, 1)
    assert 69 < found.oldest_age_seconds < 75


@pytest.fixture
def amqp_queue() -> Iterator[str]:
    require_service("rabbitmq")
    queue = f"jpq-{uuid.uuid4().hex[:10]}"
    yield queue
    import amqp

    connection = amqp.Connection(host="127.0.0.1:5672", userid="guest", password="guest")
    connection.connect()
    channel = connection.channel()
    channel.queue_delete(queue)
    channel.exchange_delete(queue)  # Celery declared a direct exchange named after it
    connection.close()


def test_celery_amqp_backlog_by_passive_declare(amqp_queue: str) -> None:
    app = _app(AMQP_URL)
    for _ in range(7):
        app.send_task("jobpulse_test.noop", queue=amqp_queue)
    missing = f"{amqp_queue}-never-declared"
    config = SourceConfig(name="r", library="celery", url=AMQP_URL, queues=(amqp_queue, missing))

    found = wait_until(
        lambda: (q := queue_of(sample(config), amqp_queue)).depth == 7 and q,
        what="RabbitMQ to count the published messages",
    )

    assert found.consumers == 0
    assert found.oldest_age_seconds is None and found.oldest_age_reason
    assert queue_of(sample(config), missing).depth == 0


def test_a_celery_worker_drains_an_amqp_queue(amqp_queue: str) -> None:
    app = _app(AMQP_URL)
    for _ in range(3):
        app.send_task("jobpulse_test.noop", queue=amqp_queue)
    config = SourceConfig(name="r", library="celery", url=AMQP_URL, queues=(amqp_queue,))
    command = [
        *(tool("celery"), "-A", "tests.integration.queue_apps.celery_app", "worker"),
        *("-Q", amqp_queue, "--pool", "solo", "--without-gossip", "--without-mingle"),
    ]
    with worker_process(command, {"JOBPULSE_TEST_BROKER_URL": AMQP_URL}):
        wait_until(
            lambda: queue_of(sample(config), amqp_queue).consumers == 1,
            timeout=60,
            what="the worker to consume",
        )
        wait_until(lambda: queue_of(sample(config), amqp_queue).depth == 0, what="drain")
