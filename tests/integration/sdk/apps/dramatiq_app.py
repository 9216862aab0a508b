"""Actors for the Dramatiq tests; the worker CLI imports this module (`dramatiq ...`)."""

from __future__ import annotations

import os

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import CurrentMessage

from jobpulse.sdk.client import Client
from jobpulse.sdk.integrations.dramatiq import DramatiqIntegration

QUEUE = os.environ.get("JOBPULSE_TEST_QUEUE", "jp-sdk-dramatiq")
broker = RedisBroker(
    url=os.environ.get("JOBPULSE_TEST_BROKER", "redis://127.0.0.1:6379/0"),
    namespace=os.environ.get("JOBPULSE_TEST_NAMESPACE", "jp-sdk-dramatiq"),
)
broker.add_middleware(CurrentMessage())
dramatiq.set_broker(broker)

if os.environ.get("JOBPULSE_URL"):
    Client(integrations=[DramatiqIntegration(broker, heartbeat_interval=1.0)], flush_interval=0.1)


@dramatiq.actor(queue_name=QUEUE, max_retries=0)
def add(x: int, y: int) -> int:
    return x + y


@dramatiq.actor(queue_name=QUEUE, max_retries=0)
def explode(message: str) -> None:
    raise RuntimeError(message)


@dramatiq.actor(queue_name=QUEUE, max_retries=3, min_backoff=10, max_backoff=20)
def flaky(fail_times: int) -> str:
    message = CurrentMessage.get_current_message()
    assert message is not None
    if message.options.get("retries", 0) < fail_times:
        raise ValueError(f"attempt {message.options.get('retries', 0) + 1} failed")
    return "recovered"
