from __future__ import annotations

import os

import dramatiq
from dramatiq.brokers.redis import RedisBroker

broker = RedisBroker(url=os.environ["JOBPULSE_TEST_BROKER_URL"])
dramatiq.set_broker(broker)
QUEUE = os.environ["JOBPULSE_TEST_QUEUE"]


@dramatiq.actor(queue_name=QUEUE, max_retries=0)
def noop() -> None:
    return None


@dramatiq.actor(queue_name=QUEUE, max_retries=0)
def fail() -> None:
    raise RuntimeError("this job always fails")
