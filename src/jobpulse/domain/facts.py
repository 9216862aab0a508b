"""Facts the alert rules read: plain values that store adapters gather from the tables of
checks, the task log, queues, workers and HTTP probes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Subject:
    """What a verdict is about. `name` is unique within `kind`; `label` is for people."""

    kind: str  # check | task | queue | worker | probe
    name: str
    label: str
    tags: frozenset[str] = frozenset()
    queue: str | None = None  # the queue a task runs on, or a worker consumes

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.name}"


@dataclass(frozen=True)
class CheckFact:
    subject: Subject
    status: str
    down_reason: str | None = None
    since: datetime | None = None  # when it went down, if known


@dataclass(frozen=True)
class TaskWindow:
    """One task's runs inside the rule's window (durations in seconds)."""

    subject: Subject
    finished: int = 0
    failed: int = 0
    durations: tuple[float, ...] = ()
    retries: tuple[int, ...] = ()
    running_since: tuple[datetime, ...] = ()  # start times of runs still in progress
    history_durations: tuple[float, ...] = ()  # the task's own past, for anomalies
    baseline_per_hour: float | None = None  # how often it normally runs


@dataclass(frozen=True)
class QueueFact:
    subject: Subject
    depth: int
    oldest_enqueued_at: datetime | None = None
    processed_in_window: int | None = None


@dataclass(frozen=True)
class WorkerFact:
    subject: Subject
    last_seen_at: datetime


@dataclass(frozen=True)
class ProbeFact:
    subject: Subject
    deployed_at: datetime | None = None
    first_ready_at: datetime | None = None  # first success since deployed_at
    consecutive_failures: int = 0
    last_error: str | None = None
    down_since: datetime | None = None
    recent_latencies: tuple[float, ...] = ()  # seconds, newest window
    baseline_latencies: tuple[float, ...] = ()  # seconds, before it


@dataclass(frozen=True)
class Facts:
    checks: tuple[CheckFact, ...] = ()
    tasks: tuple[TaskWindow, ...] = ()
    queues: tuple[QueueFact, ...] = ()
    workers: tuple[WorkerFact, ...] = ()
    probes: tuple[ProbeFact, ...] = ()
