"""Celery on Redis (kombu's Redis transport). Key layout, from kombu/transport/redis.py:

- Every key carries the transport option `global_keyprefix` (default empty).
- A queue is several lists: the bare name for priority 0 and `NAME\\x06\\x16P` for each other
  step P of `priority_steps` (default 0, 3, 6, 9). LPUSH on publish, BRPOP on consume, so
  index -1 is the oldest.
- `_kombu.binding.EXCHANGE` sets hold `ROUTING_KEY\\x06\\x16PATTERN\\x06\\x16QUEUE` for each
  declared queue: queues are found from them even when no worker runs.
- Messages a worker holds (prefetched or running) sit in the `unacked` hash
  (tag → [message, exchange, routing_key]) and the `unacked_index` sorted set scored by the
  time of delivery.
- Celery messages carry no enqueue time: a waiting message's age is estimated from when
  jobpulse first saw it; the age of in-flight work comes from `unacked_index`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
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

SEP = "\x06\x16"
DEFAULT_PRIORITY_STEPS = (0, 3, 6, 9)
# In-flight messages read to attribute them to queues; beyond this, counts are global only.
UNACKED_WINDOW = 1000
_INTERNAL_EXCHANGES = ("reply.celery.pidbox", "celeryev", "celery.pidbox")


def priority_key(queue: str, step: int) -> str:
    return f"{queue}{SEP}{step}" if step else queue


class CeleryRedisCollector(RedisCollector):
    library = "celery"

    def __init__(self, config: SourceConfig) -> None:
        super().__init__(config)
        options = config.options
        self.prefix = str(options.get("global_keyprefix", ""))
        self.steps: Sequence[int] = tuple(options.get("priority_steps", DEFAULT_PRIORITY_STEPS))
        self.max_queues = int(options.get("max_queues", 1000))
        self.first_seen = FirstSeen()

    def bindings(self) -> dict[tuple[str, str], set[str]]:
        """(exchange, routing key) → queues, read from kombu's binding sets."""
        marker = f"{self.prefix}_kombu.binding."
        exchanges = sorted(
            (text(k) or "")[len(marker) :] for k in self.scan(marker.replace("*", r"\*") + "*")
        )
        exchanges = [e for e in exchanges if e and not e.startswith(_INTERNAL_EXCHANGES)]
        members = self.run([("SMEMBERS", (marker + exchange,)) for exchange in exchanges])
        routes: dict[tuple[str, str], set[str]] = {}
        for exchange, found in zip(exchanges, members, strict=True):
            for member in map(text, found):
                parts = (member or "").split(SEP)
                if len(parts) == 3 and parts[2]:
                    routes.setdefault((exchange, parts[0]), set()).add(parts[2])
        return routes

    def read(self, now: datetime) -> tuple[list[QueueSample], list[WorkerObservation]]:
        routes = self.bindings()
        names = list(self.config.queues) or sorted(set().union(*routes.values()))
        names = [n for n in names if "pidbox" not in n][: self.max_queues]
        waiting = self.read_waiting(names, now)
        in_flight = self.read_unacked(routes, names, now)
        samples = []
        for name in names:
            depth, waiting_age = waiting[name]
            running, running_age = in_flight.get(name, (0, None))
            ages = [a for a in (waiting_age, running_age) if a is not None]
            samples.append(
                QueueSample(
                    queue=name,
                    depth=depth,
                    oldest_age_seconds=max(ages) if ages else 0.0,
                    in_progress=running,
                    scheduled=None,
                    failed=None,
                )
            )
        return samples, []

    def read_waiting(self, names: list[str], now: datetime) -> dict[str, tuple[int, float | None]]:
        commands: list[tuple[str, tuple[Any, ...]]] = []
        for name in names:
            for step in self.steps:
                key = self.prefix + priority_key(name, step)
                commands += [("LLEN", (key,)), ("LINDEX", (key, -1)), ("LINDEX", (key, 0))]
        replies = self.run(commands)
        result: dict[str, tuple[int, float | None]] = {}
        width = 3 * len(self.steps)
        for index, name in enumerate(names):
            row = replies[index * width : (index + 1) * width]
            depth, ages = 0, []
            for step, (length, oldest, newest) in zip(
                self.steps, zip(row[::3], row[1::3], row[2::3], strict=True), strict=True
            ):
                depth += int(length)
                if oldest is not None:
                    ages.append(self.first_seen.age(priority_key(name, step), oldest, newest, now))
            result[name] = (depth, max(ages) if ages else None)
        return result

    def read_unacked(
        self, routes: dict[tuple[str, str], set[str]], names: list[str], now: datetime
    ) -> dict[str, tuple[int, float | None]]:
        (tagged,) = self.run(
            [("ZRANGE", (self.prefix + "unacked_index", 0, UNACKED_WINDOW - 1, "WITHSCORES"))]
        )
        tags = [text(t) or "" for t in tagged[::2]]
        if not tags:
            return {}
        delivered = {tag: float(score) for tag, score in zip(tags, tagged[1::2], strict=True)}
        (entries,) = self.run([("HMGET", (self.prefix + "unacked", *tags))])
        known = set(names)
        result: dict[str, tuple[int, float | None]] = {}
        for tag, entry in zip(tags, entries, strict=True):
            for queue in self._queues_of(entry, routes, known):
                count, age = result.get(queue, (0, None))
                this_age = max(0.0, now.timestamp() - delivered[tag])
                result[queue] = (count + 1, max(age or 0.0, this_age))
        return result

    @staticmethod
    def _queues_of(
        entry: bytes | None, routes: dict[tuple[str, str], set[str]], known: set[str]
    ) -> set[str]:
        if entry is None:
            return set()
        try:
            _, exchange, routing_key = json.loads(entry)
        except (ValueError, TypeError):
            return set()
        queues = routes.get((exchange or "", routing_key or ""), set())
        if not queues and routing_key in known:
            queues = {routing_key}
        return queues & known
