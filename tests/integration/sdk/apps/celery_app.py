"""A Celery app for the SDK tests. Workers import it with JOBPULSE_URL set, which installs
the integration; the test process imports it only to publish."""

from __future__ import annotations

import os
import time
from typing import Any

from celery import Celery

from jobpulse.sdk.client import Client
from jobpulse.sdk.integrations.celery import CeleryIntegration

QUEUE = os.environ.get("JOBPULSE_TEST_QUEUE", "jobpulse-sdk-tests")

app = Celery("jobpulse_sdk_tests", broker=os.environ.get("JOBPULSE_TEST_BROKER", "memory://"))
app.conf.update(
    task_default_queue=QUEUE,
    task_acks_late=False,
    worker_hijack_root_logger=False,
    broker_connection_retry_on_startup=True,
)

if os.environ.get("JOBPULSE_URL"):
    client = Client(
        integrations=[CeleryIntegration(heartbeat_interval=1.0)],
        flush_interval=0.1,
        backoff_max=1.0,  # tests restart the server and want the replay soon after
    )


@app.task(name="sdk.add")
def add(x: int, y: int) -> int:
    return x + y


@app.task(name="sdk.explode")
def explode(message: str) -> None:
    raise RuntimeError(message)


@app.task(name="sdk.flaky", bind=True, max_retries=3)
def flaky(self: Any, fail_times: int) -> str:
    if self.request.retries < fail_times:
        raise self.retry(exc=ValueError(f"attempt {self.request.retries + 1} failed"), countdown=0)
    return "recovered"


@app.task(name="sdk.slow", soft_time_limit=0.5)
def slow() -> None:
    time.sleep(10)


@app.task(name="sdk.noop")
def noop() -> None:
    return None
