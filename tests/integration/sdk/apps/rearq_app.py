"""Tasks for the ReArq tests, and their worker: `python -m tests.integration.sdk.apps.rearq_app`.

Environment: JOBPULSE_TEST_BROKER (a Redis URL whose database is the test's alone: ReArq's
keys have no prefix), JOBPULSE_TEST_QUEUE, JOBPULSE_TEST_REARQ_DB (the Tortoise URL of
ReArq's job table, shared with the producer).

The worker is started as `rearq APP worker -t` starts it (a Worker and a TimerWorker), not
through that command: rearq 0.2.9's CLI imports its web UI, whose Tortoise-made pydantic
models fail to build with pydantic >= 2.11.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal

from rearq import ReArq
from rearq.task import Task
from rearq.utils import timestamp_ms_now
from rearq.worker import TimerWorker, Worker
from tortoise import Tortoise

from jobpulse.sdk.client import Client
from jobpulse.sdk.integrations.rearq import ReArqIntegration

if os.environ.get("JOBPULSE_URL"):
    Client(integrations=[ReArqIntegration(heartbeat_interval=1.0)], flush_interval=0.1)

MODELS = {"rearq": ["rearq.server.models"]}


def make_rearq(redis_url: str, queue: str) -> tuple[ReArq, dict[str, Task]]:
    """The app: each failing job runs 3 times (2 retries), retries are due at once."""
    rearq = ReArq(redis_url=redis_url, job_retry=2, job_retry_after=0, logs_dir=None)

    async def add(x: int, y: int) -> int:
        return x + y

    async def explode(message: str) -> None:
        raise RuntimeError(message)

    async def flaky(task: Task, fail_times: int) -> str:
        tries = await task.rearq.redis.incr(f"jobpulse-test:{queue}:flaky")
        if tries <= fail_times:
            raise ConnectionError(f"try {tries}")
        return "recovered"

    async def slow() -> None:
        await asyncio.sleep(30)

    async def sleepy() -> None:
        await asyncio.sleep(60)

    tasks = {
        "add": rearq.create_task(add, queue=queue),
        "explode": rearq.create_task(explode, queue=queue),
        "flaky": rearq.create_task(flaky, bind=True, queue=queue),
        "slow": rearq.create_task(slow, queue=queue, job_timeout=0.5),
        "sleepy": rearq.create_task(sleepy, queue=queue, job_timeout=60),
    }
    return rearq, tasks


async def _wake_timer(rearq: ReArq) -> None:
    """A retry does not wake ReArq's timer, which sleeps until its next cron tick (up to a
    minute): nudge it, so retried jobs are queued again at once."""
    while True:
        await asyncio.sleep(0.1)
        await rearq.pub_delay(timestamp_ms_now())


async def _work(rearq: ReArq, queue: str, database_url: str) -> None:
    await Tortoise.init(db_url=database_url, modules=MODELS)
    await Tortoise.generate_schemas(safe=True)
    worker, timer = Worker(rearq, queues=[queue]), TimerWorker(rearq)
    waker = asyncio.ensure_future(_wake_timer(rearq))
    running = asyncio.gather(worker.run(), timer.run())
    stopping: list[asyncio.Future[list[None]]] = []

    def stop() -> None:
        """On SIGTERM ReArq's worker stops after its blocking read (10 s): end it at once,
        through the same cleanup (offline heartbeat, close)."""
        stopping.append(asyncio.gather(worker.terminate(), timer.terminate()))
        running.cancel()

    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop)
    try:
        with contextlib.suppress(asyncio.CancelledError):
            await running
    finally:
        waker.cancel()
        await Tortoise.close_connections()


def main() -> None:
    queue = os.environ["JOBPULSE_TEST_QUEUE"]
    rearq, _ = make_rearq(os.environ["JOBPULSE_TEST_BROKER"], queue)
    asyncio.run(_work(rearq, queue, os.environ["JOBPULSE_TEST_REARQ_DB"]))


if __name__ == "__main__":
    main()
