"""Dramatiq's Redis broker. Key layout, from dramatiq/brokers/redis/dispatch.lua:

- `dramatiq:Q` list of waiting message ids (RPUSH on enqueue, LPOP on fetch: index 0 is the
  oldest); `dramatiq:Q.msgs` hash id → message, holding waiting *and* fetched-but-unacked
  messages (an ack deletes it), so in progress = HLEN(msgs) - LLEN(list).
- `dramatiq:Q.DQ` / `dramatiq:Q.DQ.msgs` the delay queue; `dramatiq:Q.XQ` sorted set of
  dead-lettered ids.
- `dramatiq:__heartbeats__` sorted set worker id → last heartbeat (ms);
  `dramatiq:__acks__.WORKER.Q` the ids a worker holds from Q.
- A message (JSON) carries `message_timestamp` (ms), its enqueue time.

There is no registry of queue names: queues are the configured ones, else found with a
bounded SCAN for `dramatiq:*.msgs`.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from jobpulse.collectors.base import (
    QueueSample,
    RedisCollector,
    SourceConfig,
    WorkerObservation,
    text,
)

DEFAULT_HEARTBEAT_TIMEOUT_MS = 60_000


def message_timestamp(raw: bytes | str | None) -> float | None:
    """The enqueue time (epoch seconds) of a JSON-encoded Dramatiq message."""
    if raw is None:
        return None
    try:
        value = json.loads(raw)["message_timestamp"]
        return float(value) / 1000
    except (ValueError, KeyError, TypeError):
        return None


class DramatiqCollector(RedisCollector):
    library = "dramatiq"

    def __init__(self, config: SourceConfig) -> None:
        super().__init__(config)
        self.namespace = str(config.options.get("namespace", "dramatiq"))
        self.max_queues = int(config.options.get("max_queues", 1000))
        self.max_workers = int(config.options.get("max_workers", 1000))
        self.heartbeat_timeout_ms = float(
            config.options.get("heartbeat_timeout_ms", DEFAULT_HEARTBEAT_TIMEOUT_MS)
        )

    def queue_names(self) -> list[str]:
        if self.config.queues:
            return list(self.config.queues)
        prefix = f"{self.namespace}:"
        names = set()
        for key in self.scan(f"{prefix}*.msgs"):
            name = (text(key) or "")[len(prefix) : -len(".msgs")]
            if name and not name.endswith((".DQ", ".XQ")) and not name.startswith("__"):
                names.add(name)
        return sorted(names)[: self.max_queues]

    def read(self, now: datetime) -> tuple[list[QueueSample], list[WorkerObservation]]:
        names = self.queue_names()
        ns = self.namespace
        commands: list[tuple[str, tuple[Any, ...]]] = []
        for name in names:
            commands += [
                ("LLEN", (f"{ns}:{name}",)),
                ("HLEN", (f"{ns}:{name}.msgs",)),
                ("LINDEX", (f"{ns}:{name}", 0)),
                ("HLEN", (f"{ns}:{name}.DQ.msgs",)),
                ("ZCARD", (f"{ns}:{name}.XQ",)),
            ]
        replies = self.run(commands)
        rows = [replies[i : i + 5] for i in range(0, len(replies), 5)]
        heads = [(name, text(row[2])) for name, row in zip(names, rows, strict=True)]
        bodies = self.run([("HGET", (f"{ns}:{name}.msgs", head)) for name, head in heads if head])
        body_of = dict(zip([n for n, h in heads if h], bodies, strict=True))
        samples = []
        for name, row in zip(names, rows, strict=True):
            waiting, held, head, delayed, dead = row
            age, reason = 0.0, None
            if head is not None:
                enqueued = message_timestamp(body_of.get(name))
                if enqueued is None:
                    age, reason = None, "the oldest message has no readable message_timestamp"
                else:
                    age = max(0.0, now.timestamp() - enqueued)
            samples.append(
                QueueSample(
                    queue=name,
                    depth=int(waiting),
                    oldest_age_seconds=age,
                    oldest_age_reason=reason,
                    in_progress=max(0, int(held) - int(waiting)),
                    scheduled=int(delayed),
                    failed=int(dead),
                )
            )
        return samples, self.read_workers(names)

    def read_workers(self, names: list[str]) -> list[WorkerObservation]:
        ns = self.namespace
        (beats,) = self.run(
            [("ZREVRANGE", (f"{ns}:__heartbeats__", 0, self.max_workers - 1, "WITHSCORES"))]
        )
        ids = [text(w) or "" for w in beats[::2]]
        seen = [float(s) / 1000 for s in beats[1::2]]
        pairs = [(w, q) for w in ids for q in names][:5000]
        held = self.run([("SCARD", (f"{ns}:__acks__.{w}.{q}",)) for w, q in pairs])
        queues_of: dict[str, list[str]] = {}
        for (worker, queue), count in zip(pairs, held, strict=True):
            if int(count):
                queues_of.setdefault(worker, []).append(queue)
        return [
            WorkerObservation(
                worker_id=worker,
                last_seen=datetime.fromtimestamp(at, tz=UTC),
                queues=tuple(queues_of.get(worker, ())),
                library=self.library,
                heartbeat_interval_seconds=self.heartbeat_timeout_ms / 1000 / 3,
            )
            for worker, at in zip(ids, seen, strict=True)
        ]
