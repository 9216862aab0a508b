"""Dramatiq, arq, Huey and ReArq queues read from the real Redis; real workers drain them."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import dramatiq
import redis
from arq.connections import RedisSettings, create_pool
from dramatiq.brokers.redis import RedisBroker

from jobpulse.collectors import SourceConfig, make_collector
from tests.integration.queue_apps import huey_app
from tests.integration.queue_fixtures import (
    name,
    now,
    queue_of,
    redis_url,
    sample,
    tool,
    wait_until,
    worker_process,
)

__all__ = ["name", "redis_url"]


def _env(url: str, queue: str) -> dict[str, str]:
    return {"JOBPULSE_TEST_BROKER_URL": url, "JOBPULSE_TEST_QUEUE": queue}


def test_dramatiq_backlog_age_dead_letters_and_a_worker_draining_it(
    redis_url: str, name: str
) -> None:
    broker = RedisBroker(url=redis_url)
    noop = dramatiq.actor(lambda: None, actor_name="noop", queue_name=name, broker=broker)
    fail = dramatiq.actor(lambda: None, actor_name="fail", queue_name=name, broker=broker)
    first = noop.send()
    for _ in range(4):
        noop.send()
    fail.send()
    noop.send_with_options(delay=3_600_000)
    config = SourceConfig(name="d", library="dramatiq", url=redis_url, queues=(name,))
    enqueued = first.message_timestamp / 1000
    at = now().fromtimestamp(enqueued + 45, tz=now().tzinfo)

    backlog = queue_of(sample(config, at), name)
    assert (backlog.depth, backlog.scheduled, backlog.in_progress) == (6, 1, 0)
    assert abs(backlog.oldest_age_seconds - 45) < 0.01

    command = [tool("dramatiq"), "tests.integration.queue_apps.dramatiq_app", "-p", "1", "-t", "1"]
    with worker_process(command, _env(redis_url, name)):
        wait_until(
            lambda: (
                queue_of(sample(config), name).failed == 1
                and not queue_of(sample(config), name).depth
            ),
            what="dramatiq to drain the queue",
        )
        workers = sample(config).workers
    drained = queue_of(sample(config), name)
    assert drained.depth == 0
    assert drained.failed == 1
    assert workers, "the worker's heartbeat is seen"


def test_dramatiq_queues_are_discovered_without_configuration(redis_url: str, name: str) -> None:
    broker = RedisBroker(url=redis_url)
    dramatiq.actor(lambda: None, actor_name="noop", queue_name=name, broker=broker).send()
    found = sample(SourceConfig(name="d", library="dramatiq", url=redis_url))
    assert queue_of(found, name).depth == 1


def _arq_enqueue(url: str, queue: str, count: int, deferred: int = 0) -> None:
    async def enqueue() -> None:
        pool = await create_pool(RedisSettings.from_dsn(url), default_queue_name=queue)
        for _ in range(count):
            await pool.enqueue_job("noop")
        for _ in range(deferred):
            await pool.enqueue_job("noop", _defer_by=3600)
        await pool.close()  # redis<5 (kept for rearq) has no aclose()

    asyncio.run(enqueue())


def test_arq_backlog_and_a_burst_worker_draining_it(redis_url: str, name: str) -> None:
    before = time.time()
    _arq_enqueue(redis_url, name, 5, deferred=1)
    config = SourceConfig(name="a", library="arq", url=redis_url, queues=(name,))
    at = now().fromtimestamp(before + 30, tz=now().tzinfo)

    backlog = queue_of(sample(config, at), name)
    assert (backlog.depth, backlog.scheduled, backlog.in_progress) == (5, 1, 0)
    assert 29 < backlog.oldest_age_seconds <= 30.5

    command = [tool("arq"), "tests.integration.queue_apps.arq_app.WorkerSettings"]
    with worker_process(command, _env(redis_url, name)):
        wait_until(lambda: queue_of(sample(config), name).depth == 0, what="arq to drain")
        seen = wait_until(lambda: sample(config).workers, what="the arq health check")
    assert seen[0].queues == (name,)
    assert queue_of(sample(config), name).scheduled == 1


def test_huey_backlog_schedule_age_and_a_consumer_draining_it(redis_url: str, name: str) -> None:
    _, task = huey_app.make(redis_url, name)
    for _ in range(4):
        task()
    task.schedule(delay=3600)
    config = SourceConfig(name="h", library="huey", url=redis_url, queues=(name,))
    collector = make_collector(config)
    first_look = now()
    # Huey puts a scheduled task on the queue; its consumer moves it to the schedule.
    assert queue_of(collector.sample(first_look), name).depth == 5
    backlog = queue_of(collector.sample(first_look + timedelta(seconds=40)), name)
    collector.close()
    assert backlog.oldest_age_seconds == 40

    command = [tool("huey_consumer"), "tests.integration.queue_apps.huey_app.huey", "-w", "1"]
    with worker_process(command, _env(redis_url, name)):
        drained = wait_until(
            lambda: [q for q in sample(config).queues if q.depth == 0 and q.scheduled == 1],
            what="huey to drain the queue and schedule the deferred task",
        )
    assert drained[0].queue == name


def test_rearq_streams_report_lag_and_pending(redis_url: str, name: str) -> None:
    # ReArq's layout, written as rearq/worker.py writes it: XADD {job_id}, a consumer group
    # per host reading with XREADGROUP, and the worker hash rewritten every 10 s.
    client = redis.Redis.from_url(redis_url)
    key = f"rearq:queue:{name}"
    ids = [client.xadd(key, {"job_id": f"job{i}"}) for i in range(5)]
    client.xgroup_create(key, "host", id="0")
    client.xreadgroup("host", "consumer", {key: ">"}, count=2)
    config = SourceConfig(name="r", library="rearq", url=redis_url, queues=(name,))
    enqueued_ms = int(ids[2].split(b"-")[0])
    at = now().fromtimestamp(enqueued_ms / 1000 + 20, tz=now().tzinfo)

    found = queue_of(sample(config, at), name)

    assert (found.depth, found.in_progress) == (3, 2)
    assert found.oldest_age_seconds >= 20
    client.close()
