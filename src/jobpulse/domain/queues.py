"""Queues and workers: what a sample says, when a queue is stalled, when a worker is gone,
and how samples are thinned out as they age. Pure functions; time is always a parameter."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from itertools import pairwise


@dataclass(frozen=True)
class QueueSample:
    """One reading of one queue. `None` means the library cannot tell; the reason says why."""

    queue: str
    depth: int
    oldest_age_seconds: float | None = None
    oldest_age_reason: str | None = None
    in_progress: int | None = None
    scheduled: int | None = None
    failed: int | None = None
    consumers: int | None = None
    # A counter that grows when jobs of this queue finish (where the broker keeps one).
    processed_total: int | None = None
    # Jobs recorded as running whose worker stopped heartbeating them (it died mid-job),
    # told apart from jobs that merely run long.
    abandoned: int | None = None


@dataclass(frozen=True)
class WorkerObservation:
    worker_id: str
    last_seen: datetime
    hostname: str | None = None
    pid: int | None = None
    queues: tuple[str, ...] = ()
    current_job: str | None = None
    library: str | None = None
    # How often this worker promises to report; `gone` is decided from it.
    heartbeat_interval_seconds: float | None = None
    # False once the worker said it stopped (a clean shutdown, not a death).
    online: bool = True


@dataclass(frozen=True)
class SourceSample:
    """Everything one sweep of one source saw. `error` set means the sweep failed."""

    taken_at: datetime
    queues: Sequence[QueueSample] = ()
    workers: Sequence[WorkerObservation] = ()
    error: str | None = None
    commands: int = 0

    @property
    def ok(self) -> bool:
        return self.error is None


class WorkerStatus(StrEnum):
    ALIVE = "alive"
    GONE = "gone"
    STOPPED = "stopped"


DEFAULT_HEARTBEAT_INTERVAL = timedelta(seconds=30)
MISSED_HEARTBEATS_FOR_GONE = 3


def worker_status(
    last_seen: datetime,
    now: datetime,
    heartbeat_interval: timedelta | None = None,
    missed: int = MISSED_HEARTBEATS_FOR_GONE,
    *,
    online: bool = True,
) -> WorkerStatus:
    """A worker is gone once it has missed `missed` heartbeats in a row.

    A worker busy with a long job still heartbeats, so it stays alive: being slow is a
    queue problem (stalled), not a worker death.
    """
    if not online:
        return WorkerStatus.STOPPED
    interval = heartbeat_interval or DEFAULT_HEARTBEAT_INTERVAL
    if now - last_seen > interval * missed:
        return WorkerStatus.GONE
    return WorkerStatus.ALIVE


@dataclass(frozen=True)
class DepthPoint:
    at: datetime
    depth: int
    processed_total: int | None = None


@dataclass(frozen=True)
class StallVerdict:
    stalled: bool
    reason: str


def stall_verdict(
    points: Iterable[DepthPoint],
    now: datetime,
    window: timedelta,
    alive_workers: int,
    last_finished_at: datetime | None = None,
) -> StallVerdict:
    """Stalled: jobs wait, the depth did not fall over `window`, nothing from the queue
    finished in it, and yet a worker for the queue claims to be alive.

    The window must be covered by samples (the first one at or before `now - window`), so a
    queue that just got its first jobs is not called stalled on one reading.
    """
    start = now - window
    ordered = sorted((p for p in points if p.at <= now), key=lambda p: p.at)
    before = [p for p in ordered if p.at <= start]
    inside = [p for p in ordered if p.at > start]
    if not inside:
        return StallVerdict(False, "no sample in the window")
    if not before:
        return StallVerdict(False, "samples do not cover the window yet")
    series = [before[-1], *inside]
    if series[-1].depth <= 0:
        return StallVerdict(False, "no waiting jobs")
    if any(later.depth < earlier.depth for earlier, later in pairwise(series)):
        return StallVerdict(False, "depth fell in the window")
    if _counter_grew([p.processed_total for p in series]):
        return StallVerdict(False, "jobs finished in the window")
    if last_finished_at is not None and last_finished_at > start:
        return StallVerdict(False, "a run finished in the window")
    if alive_workers <= 0:
        return StallVerdict(False, "no live worker (workers are down, not stalled)")
    return StallVerdict(True, f"{series[-1].depth} waiting, none taken for {window}")


def _counter_grew(values: Sequence[int | None]) -> bool:
    known = [v for v in values if v is not None]
    return any(later > earlier for earlier, later in pairwise(known))


# Downsampling: raw samples for 2 days, one per minute for 30 days, one per hour after.
RAW_RETENTION = timedelta(days=2)
MINUTE_RETENTION = timedelta(days=30)
MINUTE = 60
HOUR = 3600


def resolution_for_age(age: timedelta) -> int:
    """Seconds per sample a reading of this age is kept at (0 = raw)."""
    if age <= RAW_RETENTION:
        return 0
    if age <= MINUTE_RETENTION:
        return MINUTE
    return HOUR


def bucket_start(at: datetime, step_seconds: int) -> datetime:
    epoch = at.timestamp()
    return datetime.fromtimestamp(epoch - epoch % step_seconds, tz=UTC)


@dataclass(frozen=True)
class StoredSample:
    """A queue sample as kept: possibly the summary of a bucket of readings."""

    at: datetime
    depth: int
    oldest_age_seconds: float | None = None
    in_progress: int | None = None
    scheduled: int | None = None
    failed: int | None = None
    consumers: int | None = None
    processed_total: int | None = None
    abandoned: int | None = None
    ok: bool = True
    error: str | None = None


def _max_known(values: Iterable[int | float | None]) -> int | float | None:
    known = [v for v in values if v is not None]
    return max(known) if known else None


def summarise(bucket: Sequence[StoredSample], at: datetime) -> StoredSample:
    """One sample for a bucket: peaks for depth, age and load (a spike must survive
    downsampling), the last value for counters and totals."""
    good = [s for s in bucket if s.ok] or list(bucket)
    last = max(good, key=lambda s: s.at)
    oldest = _max_known(s.oldest_age_seconds for s in good)
    return StoredSample(
        at=at,
        depth=max(s.depth for s in good),
        oldest_age_seconds=float(oldest) if oldest is not None else None,
        in_progress=_int_or_none(_max_known(s.in_progress for s in good)),
        scheduled=last.scheduled,
        failed=last.failed,
        consumers=last.consumers,
        processed_total=last.processed_total,
        abandoned=_int_or_none(_max_known(s.abandoned for s in good)),
        ok=any(s.ok for s in bucket),
        error=None if any(s.ok for s in bucket) else last.error,
    )


def _int_or_none(value: int | float | None) -> int | None:
    return None if value is None else int(value)


def downsample(samples: Sequence[StoredSample], step_seconds: int) -> list[StoredSample]:
    """Group by bucket of `step_seconds` (aligned to the epoch) and summarise each."""
    if step_seconds <= 0:
        return sorted(samples, key=lambda s: s.at)
    buckets: dict[datetime, list[StoredSample]] = {}
    for sample in samples:
        buckets.setdefault(bucket_start(sample.at, step_seconds), []).append(sample)
    return [summarise(buckets[start], start) for start in sorted(buckets)]
