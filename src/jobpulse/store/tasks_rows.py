"""Conversions between task-log rows and domain runs, and what a run adds to the rollups."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import RowMapping

from jobpulse.domain.errors import fingerprint
from jobpulse.domain.runs import (
    OUTCOME_STATUS,
    TERMINAL_STATUSES,
    Attempt,
    EventType,
    Run,
    RunStatus,
    RunView,
    view,
)
from jobpulse.domain.stats import bucket_of, duration_octave
from jobpulse.store.bulk import to_epoch, to_json
from jobpulse.store.tasks_tables import HOUR, MINUTE, ROLLUP_STATUSES

RUN_STATE_COLUMNS = (
    "task_name",
    "queue_name",
    "args",
    "kwargs",
    "status",
    "duration_ms",
    "duration_octave",
    "job_retry",
    "job_retries",
    "job_retry_after",
    "success",
    "result",
    "error_message",
    "traceback",
    "fingerprint",
    "worker_id",
    "enqueue_time",
    "expire_time",
    "start_time",
    "finish_time",
    "created_at",
    "updated_at",
    "tags",
    "trace_id",
)
ATTEMPT_COLUMNS = (
    "queued_at",
    "was_enqueued",
    "was_deferred",
    "started_at",
    "worker_id",
    "outcome",
    "finished_at",
    "error",
    "traceback",
    "result",
    "retry_after",
)


# Statuses and outcomes as plain strings for the drivers (`.value` is a Python-level
# descriptor on Python 3.11, ~150 ns, and ingest reads two per job).
_PLAIN: dict[str, str] = {member: member.value for member in (*RunStatus, *EventType)}
# What a run adds to the rollups: task, queue, created_at (epoch seconds), status, duration.
Contribution = tuple[str, str, float, str, float | None]


# The outcome of the one attempt a run in a final status implies (see implied_attempt):
# the domain's outcome -> status mapping read backwards.
_IMPLIED_OUTCOMES: dict[str, EventType] = {
    status: outcome for outcome, status in OUTCOME_STATUS.items() if status in TERMINAL_STATUSES
}


def implied_attempt(fields: Mapping[str, Any]) -> Attempt:
    """The attempt a run's own TaskLog fields (a task_runs row, or its RunView) describe
    when the run had exactly one: number 1, enqueued if it has an enqueue time, started,
    finished and failed as the run was. A run whose only attempt is exactly this one stores
    no attempt row (nearly every run: one row and one index entry less each); every other
    run stores all of its attempts. Reading a run without attempt rows takes this one."""
    enqueued = fields["enqueue_time"]
    attempt: Attempt = Attempt.__new__(Attempt)  # no keyword __init__: ingest calls it per job
    attempt.__dict__ = {
        "number": 1,
        "queued_at": enqueued,
        "was_enqueued": enqueued is not None,
        "was_deferred": False,
        "started_at": fields["start_time"],
        "worker_id": fields["worker_id"],
        "outcome": _IMPLIED_OUTCOMES.get(fields["status"]),
        "finished_at": fields["finish_time"],
        "error": fields["error_message"],
        "traceback": fields["traceback"],
        "result": fields["result"],
        "retry_after": None,
    }
    return attempt


def attempts_implied(run: Run, derived: RunView) -> bool:
    """Whether the run's attempts are just the one its row implies (implied_attempt)."""
    attempts = run.attempts
    return len(attempts) == 1 and attempts.get(1) == implied_attempt(derived.__dict__)


def run_row(run: Run) -> tuple[Contribution, tuple[Any, ...], bool]:
    """The task_runs values of a folded run in RUN_STATE_COLUMNS order, as the drivers take
    them (timestamps as epoch seconds, JSON as text), what it adds to the rollups, and
    whether its row implies its attempts (then it needs no attempt rows).

    Built directly as a tuple: ingest derives one per job, and a dict of the columns
    converted afterwards cost twice as much."""
    derived: RunView = view(run)
    duration = derived.duration_ms
    status = _PLAIN[derived.status]
    created = run.first_seen_at.timestamp()
    error, traceback = derived.error_message, derived.traceback
    tags = run.tags
    row = (
        run.task_name,
        run.queue_name,
        to_json(run.args),
        to_json(run.kwargs),
        status,
        duration,
        duration_octave(duration),
        run.max_retries,
        derived.job_retries,
        derived.job_retry_after,
        derived.success,
        to_json(derived.result),
        error,
        traceback,
        fingerprint(error, traceback) if error is not None or traceback is not None else None,
        derived.worker_id,
        to_epoch(derived.enqueue_time),
        to_epoch(run.expire_time),
        to_epoch(derived.start_time),
        to_epoch(derived.finish_time),
        created,
        run.last_seen_at.timestamp(),
        to_json(list(tags)) if tags is not None else None,
        run.trace_id,
    )
    contribution = (run.task_name, run.queue_name, created, status, duration)
    return contribution, row, attempts_implied(run, derived)


def attempt_row(attempt: Attempt) -> tuple[Any, ...]:
    """task_attempts values in ATTEMPT_COLUMNS order, as the drivers take them."""
    outcome = attempt.outcome
    return (
        to_epoch(attempt.queued_at),
        attempt.was_enqueued,
        attempt.was_deferred,
        to_epoch(attempt.started_at),
        attempt.worker_id,
        _PLAIN[outcome] if outcome is not None else None,
        to_epoch(attempt.finished_at),
        attempt.error,
        attempt.traceback,
        to_json(attempt.result),
        attempt.retry_after,
    )


def contribution_of(row: RowMapping) -> Contribution:
    """What a stored task_runs row added to the rollups."""
    return (
        row["task_name"],
        row["queue_name"],
        row["created_at"].timestamp(),
        row["status"],
        row["duration_ms"],
    )


def attempt_of(row: RowMapping) -> Attempt:
    return Attempt(
        number=row["number"],
        queued_at=row["queued_at"],
        was_enqueued=bool(row["was_enqueued"]),
        was_deferred=bool(row["was_deferred"]),
        started_at=row["started_at"],
        worker_id=row["worker_id"],
        outcome=EventType(row["outcome"]) if row["outcome"] else None,
        finished_at=row["finished_at"],
        error=row["error"],
        traceback=row["traceback"],
        result=row["result"],
        retry_after=row["retry_after"],
    )


def run_of(row: RowMapping, attempt_rows: Iterable[RowMapping]) -> Run:
    """The run a task_runs row and its attempt rows hold (none: the one its row implies)."""
    attempts = {a["number"]: attempt_of(a) for a in attempt_rows} or {1: implied_attempt(row)}
    return Run(
        job_id=row["job_id"],
        task_name=row["task_name"],
        queue_name=row["queue_name"],
        first_seen_at=row["created_at"],
        last_seen_at=row["updated_at"],
        args=row["args"],
        kwargs=row["kwargs"],
        tags=tuple(row["tags"]) if row["tags"] is not None else None,
        trace_id=row["trace_id"],
        max_retries=row["job_retry"],
        retries_reported=row["job_retries"],
        expire_time=row["expire_time"],
        attempts=attempts,
    )


def implied_attempt_row(run: RowMapping) -> dict[str, Any]:
    """implied_attempt of a stored run in the shape of a task_attempts row (for readers)."""
    fields = dict(implied_attempt(run).__dict__)
    outcome = fields["outcome"]
    fields["outcome"] = _PLAIN[outcome] if outcome is not None else None
    return {"run_id": run["id"], **fields}


RollupKey = tuple[int, str, str, int, float]  # project, task, queue, period, bucket start
ProjectBucketKey = tuple[int, int, float, int]  # project, period, bucket start, bucket
ROLLUP_KEY_COLUMNS = ("project_id", "task_name", "queue_name", "period", "bucket_start")
ROLLUP_VALUE_COLUMNS = (*(f"n_{s}" for s in ROLLUP_STATUSES), "duration_count", "duration_sum_ms")
_STATUS_INDEX = {status: index for index, status in enumerate(ROLLUP_STATUSES)}
_DURATION_COUNT = len(ROLLUP_STATUSES)
_DURATION_SUM = _DURATION_COUNT + 1


@dataclass
class RollupDelta:
    """Changes to apply to the rollup tables, summed per key so each key is written once:
    counts per task/queue/bucket (ROLLUP_VALUE_COLUMNS), duration histograms per task/queue
    and per project."""

    counts: dict[RollupKey, list[float]] = field(default_factory=dict)
    durations: dict[tuple[RollupKey, int], int] = field(default_factory=dict)
    project_durations: dict[ProjectBucketKey, int] = field(default_factory=dict)

    def add(self, project_id: int, contribution: Contribution, sign: int) -> None:
        """Add (sign=1) or take back (sign=-1) what one run contributes."""
        task_name, queue_name, epoch, status_name, duration = contribution
        status = _STATUS_INDEX[status_name]
        bucket = bucket_of(duration) if duration is not None else 0
        for period in (MINUTE, HOUR):
            start = float(epoch // period * period)
            key = (project_id, task_name, queue_name, period, start)
            counts = self.counts.get(key)
            if counts is None:
                counts = self.counts[key] = [0] * len(ROLLUP_VALUE_COLUMNS)
            counts[status] += sign
            if duration is not None:
                counts[_DURATION_COUNT] += sign
                counts[_DURATION_SUM] += sign * duration
                bucket_key = (key, bucket)
                self.durations[bucket_key] = self.durations.get(bucket_key, 0) + sign
                project_key = (project_id, period, start, bucket)
                self.project_durations[project_key] = (
                    self.project_durations.get(project_key, 0) + sign
                )

    def merge(self, other: RollupDelta) -> None:
        """Add another delta's changes to this one."""
        for key, values in other.counts.items():
            counts = self.counts.get(key)
            if counts is None:
                self.counts[key] = list(values)
            else:
                for index, value in enumerate(values):
                    counts[index] += value
        for bucket_key, n in other.durations.items():
            self.durations[bucket_key] = self.durations.get(bucket_key, 0) + n
        for project_key, n in other.project_durations.items():
            self.project_durations[project_key] = self.project_durations.get(project_key, 0) + n

    # Rows in no particular order: on PostgreSQL the upsert reads them from its stage table
    # in key order (BulkInsert._copy), which is what keeps concurrent nodes from
    # deadlocking; sorting them here as well cost a tenth of the writer's time.
    def count_rows(self) -> list[tuple[Any, ...]]:
        """(*ROLLUP_KEY_COLUMNS, *ROLLUP_VALUE_COLUMNS) of every key that changed."""
        return [(*key, *values) for key, values in self.counts.items() if any(values)]

    def duration_rows(self) -> list[tuple[Any, ...]]:
        """(*ROLLUP_KEY_COLUMNS, bucket, count)."""
        return [(*key, bucket, n) for (key, bucket), n in self.durations.items() if n]

    def project_duration_rows(self) -> list[tuple[Any, ...]]:
        """(project_id, period, bucket_start, bucket, count)."""
        return [(*key, n) for key, n in self.project_durations.items() if n]
