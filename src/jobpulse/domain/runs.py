"""Task events and how they fold into one run per job.

The fold is a join on a semilattice: merging the same event twice changes nothing and the
order of arrival does not matter, so a `succeeded` seen before its `started` (or a replay of
a whole batch) still gives the same run. Each attempt keeps its own facts; the run's status
and timings are derived from its attempts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar


class EventType(StrEnum):
    # Hash as the plain string (equal to it anyway): Enum.__hash__ is a Python call, and
    # the fold looks these up several times per event.
    __hash__ = str.__hash__

    ENQUEUED = "enqueued"
    DEFERRED = "deferred"
    STARTED = "started"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    RETRIED = "retried"
    EXPIRED = "expired"
    CANCELED = "canceled"


class RunStatus(StrEnum):
    __hash__ = str.__hash__  # as EventType

    DEFERRED = "deferred"
    QUEUED = "queued"
    IN_PROGRESS = "in_progress"
    SUCCESS = "success"
    FAILED = "failed"
    RETRYING = "retrying"
    EXPIRED = "expired"
    CANCELED = "canceled"


TERMINAL_STATUSES = frozenset(
    {RunStatus.SUCCESS, RunStatus.FAILED, RunStatus.EXPIRED, RunStatus.CANCELED}
)
STATUS_DISPLAY = {
    RunStatus.DEFERRED: "Deferred",
    RunStatus.QUEUED: "Queued",
    RunStatus.IN_PROGRESS: "In Progress",
    RunStatus.SUCCESS: "Success",
    RunStatus.FAILED: "Failed",
    RunStatus.RETRYING: "Retrying",
    RunStatus.EXPIRED: "Expired",
    RunStatus.CANCELED: "Canceled",
}
_FAILING_STATUSES = frozenset(
    {RunStatus.FAILED, RunStatus.RETRYING, RunStatus.EXPIRED, RunStatus.CANCELED}
)
_SUCCESS = {RunStatus.SUCCESS: True, RunStatus.FAILED: False}
# Members the fold compares with, as module globals: `EventType.STARTED` goes through the
# enum's metaclass on every access (~100 ns on Python 3.11), several times per event.
_ENQUEUED, _STARTED, _RETRIED = EventType.ENQUEUED, EventType.STARTED, EventType.RETRIED
_IN_PROGRESS, _RETRYING, _SUCCESS_STATUS = (
    RunStatus.IN_PROGRESS,
    RunStatus.RETRYING,
    RunStatus.SUCCESS,
)
_QUEUED, _DEFERRED = RunStatus.QUEUED, RunStatus.DEFERRED
_QUEUE_EVENTS = frozenset({EventType.ENQUEUED, EventType.DEFERRED})
# When two different outcomes are reported for one attempt, the higher one wins, so the
# result does not depend on which arrived first.
_OUTCOME_PRIORITY = {
    EventType.RETRIED: 1,
    EventType.FAILED: 2,
    EventType.SUCCEEDED: 3,
    EventType.EXPIRED: 4,
    EventType.CANCELED: 5,
}
OUTCOME_STATUS = {
    EventType.SUCCEEDED: RunStatus.SUCCESS,
    EventType.FAILED: RunStatus.FAILED,
    EventType.RETRIED: RunStatus.RETRYING,
    EventType.EXPIRED: RunStatus.EXPIRED,
    EventType.CANCELED: RunStatus.CANCELED,
}


# The value objects below are never changed once built, but are not frozen: a frozen
# dataclass's __init__ costs ~2 us more per object, and ingest builds several per event.
@dataclass
class TaskEvent:
    """One fact reported about a job (the payload of POST /api/v1/events)."""

    type: EventType
    job_id: str
    task_name: str
    queue: str
    ts: datetime
    attempt: int = 1
    worker_id: str | None = None
    args: Any = None
    kwargs: Any = None
    result: Any = None
    error: str | None = None
    traceback: str | None = None
    retries: int | None = None
    max_retries: int | None = None
    retry_after: float | None = None
    eta: datetime | None = None
    expires: datetime | None = None
    tags: tuple[str, ...] | None = None
    trace_id: str | None = None

    @classmethod
    def adopting(cls, fields: dict[str, Any]) -> TaskEvent:
        """The event whose fields are `fields`, a dict holding every field and nothing else,
        taken as it is (no copy, no checks): ingest's hot path, for already validated
        values, where __init__ with 19 arguments costs a microsecond per event."""
        event = cls.__new__(cls)
        event.__dict__ = fields
        return event

    @property
    def key(self) -> tuple[str, str, int]:
        """What makes an event unique: a replay with the same key is the same event."""
        return (self.job_id, self.type.value, self.attempt)


@dataclass
class Attempt:
    """What is known about one try of a job."""

    number: int
    queued_at: datetime | None = None
    was_enqueued: bool = False
    was_deferred: bool = False
    started_at: datetime | None = None
    worker_id: str | None = None
    outcome: EventType | None = None
    finished_at: datetime | None = None
    error: str | None = None
    traceback: str | None = None
    result: Any = None
    retry_after: float | None = None


@dataclass
class Run:
    """Everything folded so far for one job_id."""

    job_id: str
    task_name: str
    queue_name: str
    first_seen_at: datetime
    last_seen_at: datetime
    args: Any = None
    kwargs: Any = None
    tags: tuple[str, ...] | None = None
    trace_id: str | None = None
    max_retries: int | None = None
    retries_reported: int = 0
    expire_time: datetime | None = None
    attempts: dict[int, Attempt] = field(default_factory=dict)


@dataclass
class RunView:
    """The TaskLog fields derived from a run."""

    status: RunStatus
    enqueue_time: datetime | None
    start_time: datetime | None
    finish_time: datetime | None
    duration_ms: float | None
    success: bool | None
    result: Any
    error_message: str | None
    traceback: str | None
    worker_id: str | None
    job_retries: int
    job_retry_after: float | None


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None:
        return b
    return a if b is None or a <= b else b


def _first(a: Any, b: Any) -> Any:
    return a if a is not None else b


# Folding works on plain dicts of the dataclasses' fields and freezes them once at the end:
# ingest folds every event it receives, so this is the hot path.
_Fields = dict[str, Any]


def _merge_attempt(attempt: _Fields, event: TaskEvent) -> None:
    if event.type in _QUEUE_EVENTS:
        attempt["queued_at"] = _earliest(attempt["queued_at"], event.ts)
        if event.type == _ENQUEUED:
            attempt["was_enqueued"] = True
        else:
            attempt["was_deferred"] = True
        return
    if event.type == _STARTED:
        attempt["started_at"] = _earliest(attempt["started_at"], event.ts)
        attempt["worker_id"] = _first(event.worker_id, attempt["worker_id"])
        return
    outcome = attempt["outcome"]
    current = _OUTCOME_PRIORITY[outcome] if outcome else 0
    if _OUTCOME_PRIORITY[event.type] <= current:
        return
    attempt.update(
        outcome=event.type,
        finished_at=event.ts,
        error=event.error,
        traceback=event.traceback,
        result=event.result,
        retry_after=event.retry_after,
        worker_id=_first(attempt["worker_id"], event.worker_id),
    )


def _merge_run(run: _Fields, event: TaskEvent) -> None:
    # Events of one job agree on names; the larger value keeps the fold order-independent.
    if event.task_name > run["task_name"]:
        run["task_name"] = event.task_name
    if event.queue > run["queue_name"]:
        run["queue_name"] = event.queue
    if event.ts < run["first_seen_at"]:
        run["first_seen_at"] = event.ts
    if event.ts > run["last_seen_at"]:
        run["last_seen_at"] = event.ts
    if run["args"] is None:
        run["args"] = event.args
    if run["kwargs"] is None:
        run["kwargs"] = event.kwargs
    if run["tags"] is None:
        run["tags"] = event.tags
    if run["trace_id"] is None:
        run["trace_id"] = event.trace_id
    if event.max_retries is not None:
        known = run["max_retries"]
        run["max_retries"] = event.max_retries if known is None else max(known, event.max_retries)
    if event.retries is not None and event.retries > run["retries_reported"]:
        run["retries_reported"] = event.retries
    if event.expires is not None:
        run["expire_time"] = _earliest(run["expire_time"], event.expires)


def new_run(event: TaskEvent) -> Run:
    return Run(
        job_id=event.job_id,
        task_name=event.task_name,
        queue_name=event.queue,
        first_seen_at=event.ts,
        last_seen_at=event.ts,
    )


_EMPTY_ATTEMPT: _Fields = dict(Attempt(0).__dict__)


_T = TypeVar("_T")
_EMPTY_RUN: _Fields = dict(Run("", "", "", datetime.min, datetime.min).__dict__)


def _adopt(cls: type[_T], fields: _Fields) -> _T:
    """An instance of a dataclass whose fields are `fields` (every field, nothing else),
    without __init__'s keyword arguments: the fold builds a run and its attempts per job."""
    instance = cls.__new__(cls)
    instance.__dict__ = fields
    return instance


def fold_all(run: Run | None, events: list[TaskEvent]) -> Run | None:
    """Merge events into a run (None: the job was never seen); order does not matter."""
    if not events:
        return run
    if run is None:
        first = events[0]
        fields = {
            **_EMPTY_RUN,
            "job_id": first.job_id,
            "task_name": first.task_name,
            "queue_name": first.queue,
            "first_seen_at": first.ts,
            "last_seen_at": first.ts,
        }
        attempts: dict[int, _Fields] = {}
    else:
        fields = dict(run.__dict__)
        attempts = {number: dict(a.__dict__) for number, a in run.attempts.items()}
    for event in events:
        _merge_run(fields, event)
        attempt = attempts.get(event.attempt)
        if attempt is None:
            attempt = attempts[event.attempt] = {**_EMPTY_ATTEMPT, "number": event.attempt}
        _merge_attempt(attempt, event)
    fields["attempts"] = {number: _adopt(Attempt, a) for number, a in attempts.items()}
    return _adopt(Run, fields)


def _waiting_status(latest: Attempt, previous: Attempt | None) -> RunStatus:
    if previous is not None and previous.outcome == _RETRIED:
        return _RETRYING
    return _QUEUED if latest.was_enqueued or not latest.was_deferred else _DEFERRED


def view(run: Run) -> RunView:
    """Derive the TaskLog fields: the latest attempt decides status and timings."""
    attempts = run.attempts
    if len(attempts) == 1:  # nearly every run: no sorting, no previous attempt
        (numbers, latest, previous) = (list(attempts), *attempts.values(), None)
    else:
        numbers = sorted(attempts)
        latest = attempts[numbers[-1]]
        previous = attempts[numbers[-2]]
    if latest.outcome is not None:
        status = OUTCOME_STATUS[latest.outcome]
    elif latest.started_at is not None:
        status = _IN_PROGRESS
    else:
        status = _waiting_status(latest, previous)
    error_source = None
    first_retried = None
    enqueue_time = None
    worker_id = None
    retried = 0
    # One pass over the attempts, newest first (nearly every run has exactly one).
    for number in reversed(numbers):
        attempt = attempts[number]
        if attempt.error and error_source is None:
            error_source = attempt
        if attempt.outcome == _RETRIED:
            retried += 1
            first_retried = first_retried or attempt
        if attempt.queued_at is not None and (
            enqueue_time is None or attempt.queued_at < enqueue_time
        ):
            enqueue_time = attempt.queued_at
        worker_id = worker_id or attempt.worker_id
    if status not in _FAILING_STATUSES:
        error_source = None
    terminal = status in TERMINAL_STATUSES
    finish_time = duration_ms = None
    if terminal:
        finish_time = latest.finished_at
        if latest.started_at is not None and finish_time is not None:
            duration_ms = max(0.0, (finish_time - latest.started_at).total_seconds() * 1000)
    return _adopt(
        RunView,
        {
            "status": status,
            "enqueue_time": enqueue_time,
            "start_time": latest.started_at,
            "finish_time": finish_time,
            "duration_ms": duration_ms,
            "success": _SUCCESS.get(status),
            "result": latest.result if status is _SUCCESS_STATUS else None,
            "error_message": error_source.error if error_source else None,
            "traceback": error_source.traceback if error_source else None,
            "worker_id": worker_id,
            "job_retries": max(run.retries_reported, numbers[-1] - 1, retried),
            "job_retry_after": first_retried.retry_after if first_retried else None,
        },
    )
