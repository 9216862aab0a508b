"""RQ (python-rq) on Redis. Key layout, from rq's source (rq 2.x/3.x, prefix `rq`):

- `rq:queues` set of queue keys `rq:queue:NAME`; the queue is a list of job ids, RPUSHed at
  the tail and LPOPped at the head (so index 0 is the oldest).
- `rq:job:ID` hash with `enqueued_at` (`%Y-%m-%dT%H:%M:%S.%fZ`, UTC).
- Registries (sorted sets): `rq:wip:NAME` (started), `rq:scheduled:NAME`, `rq:deferred:NAME`,
  `rq:failed:NAME`, `rq:finished:NAME`; `rq:queue:NAME:intermediate` holds popped jobs not yet
  registered as started.
- Workers: `rq:workers` set of worker keys `rq:worker:NAME`, each a hash with `hostname`,
  `pid`, `queues` (comma separated), `last_heartbeat`, `death` once dead; the key expires
  `worker_ttl + 60` s after the last heartbeat; `rq:worker:NAME:executions` is the set of
  `JOB_ID:EXECUTION_ID` it is running.
"""

from __future__ import annotations

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

RQ_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
DEFAULT_WORKER_TTL = 420.0


def parse_rq_time(value: bytes | str | None) -> datetime | None:
    raw = text(value)
    if not raw:
        return None
    for fmt in (RQ_TIME_FORMAT, "%Y-%m-%dT%H:%M:%SZ"):
        try:
            return datetime.strptime(raw, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    return None


class RqCollector(RedisCollector):
    library = "rq"

    def __init__(self, config: SourceConfig) -> None:
        super().__init__(config)
        self.prefix = str(config.options.get("key_prefix", "rq"))
        self.max_queues = int(config.options.get("max_queues", 1000))
        self.max_workers = int(config.options.get("max_workers", 1000))
        self.worker_ttl = float(config.options.get("worker_ttl", DEFAULT_WORKER_TTL))

    def queue_names(self) -> list[str]:
        if self.config.queues:
            return list(self.config.queues)
        (members,) = self.run([("SMEMBERS", (f"{self.prefix}:queues",))])
        marker = f"{self.prefix}:queue:"
        names = sorted(n[len(marker) :] for n in map(text, members) if n and n.startswith(marker))
        return names[: self.max_queues]

    def read(self, now: datetime) -> tuple[list[QueueSample], list[WorkerObservation]]:
        names = self.queue_names()
        return self.read_queues(names, now), self.read_workers()

    def read_queues(self, names: list[str], now: datetime) -> list[QueueSample]:
        p = self.prefix
        per_queue = 9
        commands: list[tuple[str, tuple[Any, ...]]] = []
        for name in names:
            commands += [
                ("LLEN", (f"{p}:queue:{name}",)),
                ("LINDEX", (f"{p}:queue:{name}", 0)),
                ("ZCARD", (f"{p}:wip:{name}",)),
                ("LLEN", (f"{p}:queue:{name}:intermediate",)),
                ("ZCARD", (f"{p}:scheduled:{name}",)),
                ("ZCARD", (f"{p}:deferred:{name}",)),
                ("ZCARD", (f"{p}:failed:{name}",)),
                ("ZCARD", (f"{p}:finished:{name}",)),
                # Started entries are scored by when their heartbeat lapses: past it, the
                # worker died mid-job; a long job keeps pushing its score forward.
                ("ZCOUNT", (f"{p}:wip:{name}", "-inf", now.timestamp())),
            ]
        replies = self.run(commands)
        rows = [replies[i : i + per_queue] for i in range(0, len(replies), per_queue)]
        heads = [text(row[1]) for row in rows]
        enqueued = self.run(
            [("HGET", (f"{p}:job:{head}", "enqueued_at")) for head in heads if head]
        )
        enqueued_by_head = dict(zip([h for h in heads if h], enqueued, strict=True))
        samples = []
        for name, row, head in zip(names, rows, heads, strict=True):
            depth, _, started, intermediate, scheduled, deferred, failed, finished, lost = row
            age, reason = None, None
            if head:
                at = parse_rq_time(enqueued_by_head.get(head))
                if at is None:
                    reason = "the oldest job has no enqueued_at (expired or deleted job hash)"
                else:
                    age = max(0.0, (now - at).total_seconds())
            samples.append(
                QueueSample(
                    queue=name,
                    depth=int(depth),
                    oldest_age_seconds=age if head else 0.0,
                    oldest_age_reason=reason,
                    in_progress=int(started) + int(intermediate),
                    scheduled=int(scheduled) + int(deferred),
                    failed=int(failed),
                    processed_total=int(finished) + int(failed),
                    abandoned=int(lost),
                )
            )
        return samples

    def read_workers(self) -> list[WorkerObservation]:
        (members,) = self.run([("SMEMBERS", (f"{self.prefix}:workers",))])
        keys = sorted(k for k in map(text, members) if k)[: self.max_workers]
        # RQ 3 lists a worker's running jobs in `{worker}:executions`; RQ 2 names its one job
        # in the hash's `current_job`.
        fields = ("hostname", "pid", "queues", "last_heartbeat", "birth", "death", "current_job")
        hashes = self.run([("HMGET", (key, *fields)) for key in keys])
        executions = self.run([("SMEMBERS", (f"{key}:executions",)) for key in keys])
        marker = f"{self.prefix}:worker:"
        workers = []
        for key, values, running in zip(keys, hashes, executions, strict=True):
            hostname, pid, queues, heartbeat, birth, death, current = values
            if death is not None or (heartbeat is None and birth is None):
                continue  # dead, or its hash expired: RQ itself no longer counts it
            seen = parse_rq_time(heartbeat) or parse_rq_time(birth)
            if seen is None:
                continue
            jobs = sorted(j.rsplit(":", 1)[0] for j in map(text, running) if j)
            workers.append(
                WorkerObservation(
                    worker_id=key[len(marker) :] if key.startswith(marker) else key,
                    last_seen=seen,
                    hostname=text(hostname),
                    pid=as_int(pid),
                    queues=tuple(q for q in (text(queues) or "").split(",") if q),
                    current_job=jobs[0] if jobs else text(current),
                    library=self.library,
                    heartbeat_interval_seconds=self.worker_ttl / 3,
                )
            )
        return workers
