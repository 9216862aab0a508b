from __future__ import annotations

import os
from typing import Any

from huey import RedisHuey


def _noop() -> str:
    return "ok"


def make(url: str, queue: str) -> tuple[RedisHuey, Any]:
    """The app and its task; huey names tasks after this module, so the test process and
    the consumer must both build them here."""
    huey = RedisHuey(queue, url=url)
    return huey, huey.task(name="noop")(_noop)


if "JOBPULSE_TEST_BROKER_URL" in os.environ:
    huey, noop = make(os.environ["JOBPULSE_TEST_BROKER_URL"], os.environ["JOBPULSE_TEST_QUEUE"])
