"""HTTP probes (leader only): poll each due probe's URL and record a sample.

A poll succeeds on a 2xx or 3xx answer within the probe's timeout. The rules
probe_never_ready, probe_down and probe_slow read the samples.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import Connection, delete, insert, select, update

from jobpulse.engine.leader import LeaderLock
from jobpulse.engine.loop import PeriodicLoop
from jobpulse.store.alerts_tables import alert_probe_samples, alert_probes
from jobpulse.store.rows import each
from jobpulse.store.writer import GroupCommitWriter

# Samples are kept this long; probe rules look back at most twice their window within it.
SAMPLE_RETENTION = timedelta(days=14)
PRUNE_BATCH = 10_000


@dataclass(frozen=True)
class DueProbe:
    id: int
    url: str
    timeout: float


@dataclass(frozen=True)
class Sample:
    probe_id: int
    at: datetime
    ok: bool
    status_code: int | None
    latency_ms: float | None
    error: str | None


def _take_due(conn: Connection, now: datetime) -> list[DueProbe]:
    """Due probes, with their next poll time moved on (so a probe is polled once per due)."""
    query = select(alert_probes).where(
        alert_probes.c.enabled.is_(True), alert_probes.c.next_poll_at <= now
    )
    due = []
    for row in conn.execute(query.order_by(alert_probes.c.id).limit(200)):
        conn.execute(
            update(alert_probes)
            .where(alert_probes.c.id == row.id)
            .values(next_poll_at=now + timedelta(seconds=row.interval_s))
        )
        due.append(DueProbe(row.id, row.url, row.timeout_s))
    return due


def _record(conn: Connection, samples: Sequence[Sample]) -> int:
    if samples:
        conn.execute(insert(alert_probe_samples), [vars(sample) for sample in samples])
    return len(samples)


def _prune(conn: Connection, before: datetime) -> int:
    """Delete up to PRUNE_BATCH samples older than `before` (bounded: the writer stays free)."""
    old = (
        select(alert_probe_samples.c.id)
        .where(alert_probe_samples.c.at < before)
        .order_by(alert_probe_samples.c.id)
        .limit(PRUNE_BATCH)
    )
    ids = list(conn.execute(old).scalars())
    if ids:
        conn.execute(delete(alert_probe_samples).where(alert_probe_samples.c.id.in_(ids)))
    return len(ids)


take_due_handler = each(_take_due)
record_handler = each(_record)
prune_handler = each(_prune)


def poll(probe: DueProbe, now: Callable[[], datetime], client: httpx.Client) -> Sample:
    started = time.perf_counter()
    try:
        response = client.get(probe.url, timeout=probe.timeout, follow_redirects=False)
    except httpx.HTTPError as exc:
        return Sample(probe.id, now(), False, None, None, f"{type(exc).__name__}: {exc}"[:500])
    latency = (time.perf_counter() - started) * 1000
    ok = 200 <= response.status_code < 400
    error = None if ok else f"HTTP {response.status_code}"
    return Sample(probe.id, now(), ok, response.status_code, latency, error)


class ProbePoller:
    def __init__(
        self,
        writer: GroupCommitWriter,
        leader: LeaderLock,
        interval: float,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._writer = writer
        self.leader = leader
        self.clock = clock
        self._client: Any = None
        self._last_prune = 0.0
        self.loop = PeriodicLoop("jobpulse-probes", interval, self._step)

    def start(self) -> None:
        self._client = httpx.Client()
        self.loop.start()

    def stop(self) -> None:
        self.loop.stop()
        self.leader.release()
        if self._client is not None:
            self._client.close()

    def tick(self, client: httpx.Client | None = None) -> int:
        """Poll every due probe once; the number of samples recorded."""
        due: list[DueProbe] = self._writer.run_sync(take_due_handler, self.clock())
        http = client or self._client or httpx.Client()
        samples = [poll(probe, self.clock, http) for probe in due]
        return int(self._writer.run_sync(record_handler, samples))

    def prune(self) -> int:
        """Delete one batch of samples past SAMPLE_RETENTION; how many were deleted."""
        return int(self._writer.run_sync(prune_handler, self.clock() - SAMPLE_RETENTION))

    def _step(self) -> None:
        if self.leader.holds():
            self.tick()
            if time.monotonic() - self._last_prune > 60:
                self._last_prune = time.monotonic()
                self.prune()
