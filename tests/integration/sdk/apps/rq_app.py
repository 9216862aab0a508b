"""Jobs and a worker entry point for the RQ tests: `python -m ...rq_app REDIS_URL QUEUE`."""

from __future__ import annotations

import sys
import time

from redis import Redis
from rq import Queue, Worker, get_current_job

from jobpulse.sdk.client import Client
from jobpulse.sdk.integrations.rq import RQIntegration


def add(x: int, y: int) -> int:
    return x + y


def explode(message: str) -> None:
    raise RuntimeError(message)


def flaky(fail_times: int) -> str:
    job = get_current_job()
    assert job is not None
    runs = job.connection.incr(f"jp-sdk-test:runs:{job.id}")
    job.connection.expire(f"jp-sdk-test:runs:{job.id}", 300)
    if runs <= fail_times:
        raise ValueError(f"run {runs} failed")
    return "recovered"


def slow() -> None:
    time.sleep(10)


def main(redis_url: str, queue_name: str) -> None:
    Client(integrations=[RQIntegration(heartbeat_interval=1.0)], flush_interval=0.1)
    connection = Redis.from_url(redis_url)
    worker = Worker([Queue(queue_name, connection=connection)], connection=connection)
    worker.work(with_scheduler=True, logging_level="INFO")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
