"""arq on Redis. Key layout, from arq's source (arq/constants.py, connections.py, worker.py):

- A queue is a sorted set (default `arq:queue`) of job ids scored by the time (ms) the job
  is due: the enqueue time, or the deferred time. Jobs stay in it while they run and are
  removed when they finish, so "waiting" is due members without an `arq:in-progress:ID` key.
- Each worker writes `<queue>:health-check` (PSETEX, interval + 1 s) with
  `j_complete=… j_failed=… j_retried=… j_ongoing=… queued=…`.
- Results are per job (`arq:result:ID`); there is no index of failed jobs.

A queue's name is the sorted set's key; there is no registry of queues, so they are the
configured ones (default `arq:queue`).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from jobpulse.collectors.base import (
    QueueSample,
    RedisCollector,
    SourceConfig,
    WorkerObservation,
    text,
)

DEFAULT_QUEUE = "arq:queue"
IN_PROGRESS_PREFIX = "arq:in-progress:"
HEALTH_SUFFIX = ":health-check"
# Jobs at the head of the queue checked for an in-progress key: arq takes due jobs in score
# order, so running ones are among the first; the check stays bounded whatever the depth.
HEAD_WINDOW = 100
_COUNTER = re.compile(r"(j_complete|j_failed|j_retried|j_ongoing|queued)=(\d+)")


def parse_health(value: bytes | str | None) -> dict[str, int]:
    return {k: int(v) for k, v in _COUNTER.findall(text(value) or "")}


class ArqCollector(RedisCollector):
    library = "arq"

    def __init__(self, config: SourceConfig) -> None:
        super().__init__(config)
        self.health_interval = float(config.options.get("health_check_interval", 3600))

    def read(self, now: datetime) -> tuple[list[QueueSample], list[WorkerObservation]]:
        names = list(self.config.queues) or [DEFAULT_QUEUE]
        now_ms = now.timestamp() * 1000
        commands = []
        for name in names:
            commands += [
                ("ZCOUNT", (name, "-inf", now_ms)),
                ("ZCOUNT", (name, f"({now_ms}", "+inf")),
                ("ZRANGEBYSCORE", (name, "-inf", now_ms, "WITHSCORES", "LIMIT", 0, HEAD_WINDOW)),
                ("GET", (name + HEALTH_SUFFIX,)),
                ("PTTL", (name + HEALTH_SUFFIX,)),
            ]
        replies = self.run(commands)
        width = len(commands) // max(1, len(names))
        rows = [replies[i * width : (i + 1) * width] for i in range(len(names))]
        running = self._running([[text(m) or "" for m in row[2][::2]] for row in rows])
        samples, workers = [], []
        for name, row, in_progress in zip(names, rows, running, strict=True):
            due, scheduled, head, health, ttl_ms = row
            waiting = [float(score) for score in head[1::2]][in_progress:]
            oldest = (now_ms - waiting[0]) / 1000 if waiting else 0.0
            counters = parse_health(health)
            samples.append(
                QueueSample(
                    queue=name,
                    depth=int(due) - in_progress,
                    oldest_age_seconds=max(0.0, oldest),
                    in_progress=in_progress,
                    scheduled=int(scheduled),
                    failed=None,
                    processed_total=(
                        counters.get("j_complete", 0) + counters.get("j_failed", 0)
                        if counters
                        else None
                    ),
                )
            )
            if health is not None:
                workers.append(self._worker(name, int(ttl_ms), now))
        return samples, workers

    def _running(self, heads: list[list[str]]) -> list[int]:
        """How many of each queue's first due jobs are running: one EXISTS per queue over
        their in-progress keys, all in one pipeline. arq starts due jobs in score order, so
        the running ones are taken to be the first."""
        asked = [(i, ids) for i, ids in enumerate(heads) if ids]
        counts = self.run(
            [("EXISTS", tuple(IN_PROGRESS_PREFIX + j for j in ids)) for _, ids in asked]
        )
        running = [0] * len(heads)
        for (index, _), count in zip(asked, counts, strict=True):
            running[index] = int(count)
        return running

    def _worker(self, queue: str, ttl_ms: int, now: datetime) -> WorkerObservation:
        # The key is rewritten every interval with a TTL of interval + 1 s: its remaining TTL
        # tells when it was last written.
        written_ago = max(0.0, self.health_interval + 1 - ttl_ms / 1000) if ttl_ms > 0 else 0.0
        return WorkerObservation(
            worker_id=queue + HEALTH_SUFFIX,
            last_seen=datetime.fromtimestamp(now.timestamp() - written_ago, tz=UTC),
            queues=(queue,),
            current_job=None,
            library=self.library,
            heartbeat_interval_seconds=self.health_interval,
        )
