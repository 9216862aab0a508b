"""Huey on Redis. Key layout, from huey/storage.py (`RedisStorage`, `name` cleaned to
[A-Za-z0-9_]):

- `huey.redis.NAME` the queue: a list (LPUSH on enqueue, BRPOP on dequeue: index -1 is the
  oldest) or, with `PriorityRedisStorage`, a sorted set whose members start with the enqueue
  time (8 bytes, big-endian microseconds) and are scored by -priority.
- `huey.schedule.NAME` sorted set of scheduled (eta) tasks.
- Huey keeps no record of running tasks, of workers, or of failures; a list message carries
  no enqueue time, so its age is estimated from when jobpulse first saw it.
"""

from __future__ import annotations

import struct
from datetime import datetime
from typing import Any

from jobpulse.collectors.base import (
    FirstSeen,
    QueueSample,
    RedisCollector,
    SourceConfig,
    WorkerObservation,
    text,
)

# Members of a priority queue looked at for the oldest enqueue time (bounded work; the
# lowest-priority old jobs beyond it are not seen).
PRIORITY_HEAD_WINDOW = 100


class HueyCollector(RedisCollector):
    library = "huey"

    def __init__(self, config: SourceConfig) -> None:
        super().__init__(config)
        self.first_seen = FirstSeen()
        self.max_queues = int(config.options.get("max_queues", 1000))

    def queue_names(self) -> list[str]:
        if self.config.queues:
            return list(self.config.queues)
        names = {(text(k) or "")[len("huey.redis.") :] for k in self.scan("huey.redis.*")}
        return sorted(n for n in names if n)[: self.max_queues]

    def read(self, now: datetime) -> tuple[list[QueueSample], list[WorkerObservation]]:
        names = self.queue_names()
        kinds = [text(k) for k in self.run([("TYPE", (f"huey.redis.{n}",)) for n in names])]
        commands: list[tuple[str, tuple[Any, ...]]] = []
        for name, kind in zip(names, kinds, strict=True):
            key = f"huey.redis.{name}"
            commands.append(("ZCARD", (f"huey.schedule.{name}",)))
            if kind == "zset":
                commands += [("ZCARD", (key,)), ("ZRANGE", (key, 0, PRIORITY_HEAD_WINDOW - 1))]
            else:
                commands += [("LLEN", (key,)), ("LINDEX", (key, -1)), ("LINDEX", (key, 0))]
        replies = iter(self.run(commands))
        samples = []
        for name, kind in zip(names, kinds, strict=True):
            scheduled, depth = next(replies), next(replies)
            if kind == "zset":
                head = next(replies)
                stamps = [struct.unpack(">Q", m[:8])[0] / 1e6 for m in head if len(m) >= 8]
                age = max(0.0, now.timestamp() - min(stamps)) if stamps else 0.0
            else:
                oldest, newest = next(replies), next(replies)
                age = self.first_seen.age(name, oldest, newest, now)
            samples.append(
                QueueSample(
                    queue=name,
                    depth=int(depth),
                    oldest_age_seconds=age,
                    oldest_age_reason=None,
                    in_progress=None,
                    scheduled=int(scheduled),
                    failed=None,
                )
            )
        return samples, []
