"""Functions and settings for the arq tests; the worker runs `arq ...arq_app.WorkerSettings`."""

from __future__ import annotations

import asyncio
import os
from typing import Any

from arq import Retry
from arq.connections import RedisSettings
from arq.worker import func

from jobpulse.sdk.client import Client
from jobpulse.sdk.integrations.arq import ArqIntegration

if os.environ.get("JOBPULSE_URL"):
    Client(integrations=[ArqIntegration(heartbeat_interval=1.0)], flush_interval=0.1)


async def add(ctx: dict[str, Any], x: int, y: int) -> int:
    return x + y


async def explode(ctx: dict[str, Any], message: str) -> None:
    raise RuntimeError(message)


async def flaky(ctx: dict[str, Any], fail_times: int) -> str:
    if ctx["job_try"] <= fail_times:
        raise Retry(defer=0.01)
    return "recovered"


async def slow(ctx: dict[str, Any]) -> None:
    await asyncio.sleep(30)


class WorkerSettings:
    functions = [add, explode, flaky, func(slow, timeout=0.5)]
    queue_name = os.environ.get("JOBPULSE_TEST_QUEUE", "jp-sdk-arq")
    redis_settings = RedisSettings.from_dsn(
        os.environ.get("JOBPULSE_TEST_BROKER", "redis://127.0.0.1:6379/0")
    )
    max_tries = 3
    poll_delay = 0.05
