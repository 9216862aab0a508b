"""Tasks for the Huey tests; the consumer runs `huey_consumer ...huey_app.huey`."""

from __future__ import annotations

import os
from typing import Any

from huey import RedisHuey

from jobpulse.sdk.client import Client
from jobpulse.sdk.integrations.huey import HueyIntegration


def make_huey(name: str, url: str) -> tuple[RedisHuey, dict[str, Any]]:
    """A Huey and its tasks; the producer in the test process builds the same one."""
    huey = RedisHuey(name, url=url, results=False)

    @huey.task(name="add")
    def add(x: int, y: int) -> int:
        return x + y

    @huey.task(name="explode")
    def explode(message: str) -> None:
        raise RuntimeError(message)

    @huey.task(name="flaky", retries=3)
    def flaky(key: str, fail_times: int) -> str:
        runs = huey.storage.conn.incr(key)
        huey.storage.conn.expire(key, 300)
        if runs <= fail_times:
            raise ValueError(f"run {runs} failed")
        return "recovered"

    return huey, {"add": add, "explode": explode, "flaky": flaky}


huey, tasks = make_huey(
    os.environ.get("JOBPULSE_TEST_QUEUE", "jp-sdk-huey"),
    os.environ.get("JOBPULSE_TEST_BROKER", "redis://127.0.0.1:6379/0"),
)

if os.environ.get("JOBPULSE_URL"):
    Client(integrations=[HueyIntegration(huey, heartbeat_interval=1.0)], flush_interval=0.1)
