"""ReArq on Redis. Key layout, from rearq/constants.py and worker.py:

- A queue is a Redis stream `rearq:queue:NAME` (XADD `{job_id}`); workers read it through a
  consumer group (named after the host by default) and XACK without deleting, so what waits
  is the group's `lag`, what runs is its pending entries. Entry ids start with the enqueue
  time in milliseconds.
- Deferred jobs sit in sorted sets `rearq:queue:delay:N` (not attributed to queues here).
- `rearq:worker` hash: worker name → JSON `{queue, ms, group, consumer, is_timer}`, rewritten
  every 10 s (`WORKER_HEARTBEAT_SECONDS`).
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
    as_int,
    text,
)

QUEUE_PREFIX = "rearq:queue:"
WORKER_KEY = "rearq:worker"
HEARTBEAT_SECONDS = 10.0


def entry_ms(entry_id: bytes | str | None) -> int | None:
    return as_int((text(entry_id) or "").split("-", 1)[0] or None)


def _pairs(flat: list[Any]) -> dict[str, Any]:
    return {text(k) or "": v for k, v in zip(flat[::2], flat[1::2], strict=False)}


def _pending_min(summary: Any) -> bytes | None:
    """The oldest pending id from XPENDING's summary (a dict once redis-py parsed it)."""
    if isinstance(summary, dict):
        return summary.get("min") if summary.get("pending") else None
    return summary[1] if summary and int(summary[0]) else None


class RearqCollector(RedisCollector):
    library = "rearq"

    def __init__(self, config: SourceConfig) -> None:
        super().__init__(config)
        self.max_queues = int(config.options.get("max_queues", 1000))

    def queue_names(self) -> list[str]:
        if self.config.queues:
            return list(self.config.queues)
        names = {(text(k) or "")[len(QUEUE_PREFIX) :] for k in self.scan(QUEUE_PREFIX + "*")}
        return sorted(n for n in names if n and not n.startswith("delay"))[: self.max_queues]

    def read(self, now: datetime) -> tuple[list[QueueSample], list[WorkerObservation]]:
        names = self.queue_names()
        kinds = self.run([("TYPE", (QUEUE_PREFIX + n,)) for n in names])
        streams = [n for n, kind in zip(names, kinds, strict=True) if text(kind) == "stream"]
        groups_of = dict(
            zip(
                streams,
                self.run([("XINFO", ("GROUPS", QUEUE_PREFIX + n)) for n in streams]),
                strict=True,
            )
        )
        samples = [self._queue(name, groups_of.get(name, []), now) for name in names]
        return samples, self.read_workers()

    def _queue(self, name: str, raw_groups: list[Any], now: datetime) -> QueueSample:
        key = QUEUE_PREFIX + name
        groups = [_pairs(g) for g in raw_groups]
        if not groups:
            (length,) = self.run([("XLEN", (key,))])
            return QueueSample(
                queue=name,
                depth=int(length),
                oldest_age_seconds=None,
                oldest_age_reason="no consumer group has read this stream yet",
            )
        behind = max(groups, key=lambda g: int(g.get("lag") or 0))
        lag = int(behind.get("lag") or 0)
        commands: list[tuple[str, tuple[Any, ...]]] = [
            ("XRANGE", (key, b"(" + (behind.get("last-delivered-id") or b"0-0"), "+", "COUNT", 1))
        ]
        commands += [("XPENDING", (key, text(g["name"]))) for g in groups]
        first, *pending = self.run(commands)
        now_ms = now.timestamp() * 1000
        oldest = entry_ms(first[0][0]) if lag and first else None
        in_flight = [entry_ms(_pending_min(p)) for p in pending]
        ages = [now_ms - ms for ms in [oldest, *in_flight] if ms is not None]
        return QueueSample(
            queue=name,
            depth=lag,
            oldest_age_seconds=max(0.0, max(ages) / 1000) if ages else 0.0,
            in_progress=sum(int(g.get("pending") or 0) for g in groups),
            # Group consumers are never removed when a worker dies, so they say nothing about
            # liveness: the worker hash does.
            consumers=None,
        )

    def read_workers(self) -> list[WorkerObservation]:
        (entries,) = self.run([("HGETALL", (WORKER_KEY,))])
        workers = []
        for name, raw in sorted(entries.items()):
            try:
                info = json.loads(raw)
            except (ValueError, TypeError):
                continue
            queue = str(info.get("queue", ""))
            workers.append(
                WorkerObservation(
                    worker_id=text(name) or "",
                    last_seen=datetime.fromtimestamp(float(info.get("ms", 0)) / 1000, tz=UTC),
                    hostname=info.get("group"),
                    queues=(queue.removeprefix(QUEUE_PREFIX),) if queue else (),
                    library=self.library,
                    heartbeat_interval_seconds=HEARTBEAT_SECONDS,
                )
            )
        return workers
