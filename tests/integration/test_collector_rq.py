"""RQ queues and workers read from the real Redis, with real `rq worker` processes."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import redis
import rq

from jobpulse.collectors import SourceConfig
from jobpulse.domain.queues import WorkerStatus, worker_status
from tests.integration.queue_fixtures import (
    kill_tree,
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


def _queue(url: str, queue: str) -> rq.Queue:
    return rq.Queue(queue, connection=redis.Redis.from_url(url))


def test_depth_grows_without_a_worker_and_the_oldest_age_is_the_first_enqueue(
    redis_url: str, name: str
) -> None:
    queue = _queue(redis_url, name)
    first = queue.enqueue("tests.integration.queue_apps.jobs.noop")
    for _ in range(6):
        queue.enqueue("tests.integration.queue_apps.jobs.noop")
    queue.enqueue_in(timedelta(hours=1), "tests.integration.queue_apps.jobs.noop")
    config = SourceConfig(name="rq", library="rq", url=redis_url)
    later = first.enqueued_at.replace(tzinfo=first.enqueued_at.tzinfo or now().tzinfo)
    later = later + timedelta(seconds=90)

    found = queue_of(sample(config, later), name)

    assert found.depth == 7
    assert found.scheduled == 1
    assert found.in_progress == 0
    assert abs(found.oldest_age_seconds - 90.0) < 0.01


def test_a_worker_drains_the_queue_and_the_finished_count_grows(redis_url: str, name: str) -> None:
    queue = _queue(redis_url, name)
    for _ in range(5):
        queue.enqueue("tests.integration.queue_apps.jobs.noop")
    queue.enqueue("tests.integration.queue_apps.jobs.missing_function")
    config = SourceConfig(name="rq", library="rq", url=redis_url, queues=(name,))
    assert queue_of(sample(config), name).depth == 6

    with worker_process([tool("rq"), "worker", "--burst", "-u", redis_url, name]) as worker:
        worker.wait(60)

    drained = queue_of(sample(config), name)
    assert drained.depth == 0
    assert drained.failed == 1
    assert drained.processed_total == 6


def test_a_killed_worker_turns_gone_and_a_busy_one_stays_alive(
    redis_url: str, name: str, tmp_path: Path
) -> None:
    marker = f"{tmp_path}/started"
    queue = _queue(redis_url, name)
    job = queue.enqueue("tests.integration.queue_apps.jobs.block", 120)
    config = SourceConfig(name="rq", library="rq", url=redis_url, options={"worker_ttl": 60})
    command = [tool("rq"), "worker", "--worker-ttl", "60", "-u", redis_url, name]
    env = {"JOBPULSE_TEST_BLOCK_MARKER": marker}
    with worker_process(command, env) as process:
        wait_until(lambda: os.path.exists(marker), what="the job to start")

        def ours() -> list:
            return [w for w in sample(config).workers if name in w.queues]

        (busy,) = wait_until(ours, what="the worker to register")
        assert busy.current_job == job.id
        assert busy.pid == process.pid
        assert worker_status(busy.last_seen, now(), timedelta(seconds=20)) is WorkerStatus.ALIVE
        running = queue_of(sample(config), name)
        assert (running.in_progress, running.abandoned) == (1, 0)

        kill_tree(process)

    # The dead worker's hash lingers until its TTL runs out, but its heartbeat stops.
    (dead,) = ours()
    later = dead.last_seen + timedelta(seconds=61)
    interval = timedelta(seconds=dead.heartbeat_interval_seconds or 0)
    assert worker_status(dead.last_seen, later, interval) is WorkerStatus.GONE
    # Its job stays "started" in RQ's registry, but nobody extends it any more.
    orphaned = queue_of(sample(config, now() + timedelta(hours=1)), name)
    assert (orphaned.in_progress, orphaned.abandoned) == (1, 1)


def test_the_probe_command_prints_what_jobpulse_sees(redis_url: str, name: str) -> None:
    import json

    from click.testing import CliRunner

    from jobpulse.cli import main

    _queue(redis_url, name).enqueue("tests.integration.queue_apps.jobs.noop")
    args = ["queues", "probe", "--library", "rq", "--url", redis_url, "--queue", name]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    (queue,) = json.loads(result.output)["queues"]
    assert (queue["queue"], queue["depth"]) == (name, 1)
