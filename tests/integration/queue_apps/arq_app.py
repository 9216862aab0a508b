from __future__ import annotations

import os
from typing import Any

from arq.connections import RedisSettings


async def noop(ctx: dict[str, Any]) -> str:
    return "ok"


class WorkerSettings:
    functions = [noop]
    redis_settings = RedisSettings.from_dsn(os.environ["JOBPULSE_TEST_BROKER_URL"])
    queue_name = os.environ["JOBPULSE_TEST_QUEUE"]
    health_check_interval = 2
    burst = True
    poll_delay = 0.1
