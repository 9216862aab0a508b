"""The rearq collector against what rearq 0.2.9 itself writes: jobs enqueued by `Task.delay`,
then the consumer group, the running jobs and the heartbeat of a real `Worker`."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from pathlib import Path

from rearq import ReArq
from rearq.server.models import JobResult
from rearq.worker import Worker
from tortoise import Tortoise

from jobpulse.collectors import SourceConfig
from jobpulse.domain.queues import SourceSample
from tests.integration.queue_fixtures import name, queue_of, redis_url, sample

__all__ = ["name", "redis_url"]


async def _until(
    config: SourceConfig, done: Callable[[SourceSample], bool], timeout: float = 10
) -> SourceSample:
    """Sample (in a thread: the worker runs on this loop) until `done(sample)`."""
    deadline = time.monotonic() + timeout
    while True:
        found = await asyncio.to_thread(sample, config)
        if done(found) or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.05)


def test_a_real_rearq_backlog_then_its_worker_running_jobs(
    redis_url: str, name: str, tmp_path: Path
) -> None:
    config = SourceConfig(name="r", library="rearq", url=redis_url, queues=(name,))
    release = asyncio.Event()

    async def hold() -> None:
        await release.wait()

    async def scenario() -> tuple[SourceSample, SourceSample]:
        await Tortoise.init(
            db_url=f"sqlite://{tmp_path / 'rearq.db'}", modules={"rearq": ["rearq.server.models"]}
        )
        await Tortoise.generate_schemas()
        rearq = ReArq(redis_url=redis_url, logs_dir=None)
        task = rearq.create_task(hold, queue=name, name=f"hold_{name}")
        worker = Worker(rearq, queues=[name], group_name=f"{name}-group")
        running = None
        try:
            for _ in range(3):
                await task.delay()
            backlog = await asyncio.to_thread(sample, config)
            running = asyncio.ensure_future(worker.run())
            # The group is created at the stream's end ("$"): the 3 earlier jobs are never read.
            await _until(config, lambda s: any(name in w.queues for w in s.workers))
            held = [await task.delay() for _ in range(2)]
            busy = await _until(config, lambda s: queue_of(s, name).in_progress == 2)
            release.set()
            ids = [job.pk for job in held if job is not None]
            while await JobResult.filter(job_id__in=ids).count() < len(ids):  # runs finished
                await asyncio.sleep(0.05)
            return backlog, busy
        finally:
            release.set()
            if running is not None:
                running.cancel()  # its blocking read would last 10 s
                with contextlib.suppress(asyncio.CancelledError):
                    await running  # cleans up: deletes its heartbeat, closes the connection
            await Tortoise.close_connections()

    backlog, busy = asyncio.run(scenario())

    queued = queue_of(backlog, name)
    assert queued.depth == 3
    assert queued.oldest_age_reason == "no consumer group has read this stream yet"
    working = queue_of(busy, name)
    assert (working.depth, working.in_progress) == (0, 2)
    assert working.oldest_age_seconds is not None and working.oldest_age_seconds < 60
    [worker] = [w for w in busy.workers if name in w.queues]
    assert worker.worker_id.startswith(f"{name}-group-")  # rearq's "{group}-{consumer}"
    assert worker.library == "rearq"
