"""Retention of the task log: raw runs, attempts and events go after N days; minute rollups
go with them and hourly rollups stay much longer, so old stats and timelines survive."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, delete, func, select

from jobpulse.store.retention import PRUNE_CHUNK, Pruner, delete_oldest, prune_in_steps
from jobpulse.store.tasks_tables import (
    HOUR,
    MINUTE,
    task_attempts,
    task_project_durations,
    task_rollup_durations,
    task_rollups,
    task_runs,
)
from jobpulse.store.writer import GroupCommitWriter

# Rows deleted per transaction, so ingest never waits long behind a prune.


@dataclass(frozen=True)
class PruneRequest:
    runs_before: datetime
    rollups_before: datetime


@dataclass
class PruneResult:
    runs: int = 0
    rollups: int = 0

    def __iadd__(self, other: PruneResult) -> PruneResult:
        self.runs += other.runs
        self.rollups += other.rollups
        return self

    @property
    def total(self) -> int:
        return self.runs + self.rollups


def prune_step(conn: Connection, request: PruneRequest) -> PruneResult:
    """Delete at most PRUNE_CHUNK rows of each kind; repeat until it returns zero."""
    result = PruneResult()
    runs_cutoff = request.runs_before
    expired = task_runs.c.created_at < runs_cutoff
    oldest = select(task_runs.c.id).where(expired).order_by(task_runs.c.id).limit(PRUNE_CHUNK)
    chunk = oldest.subquery()
    first, last = conn.execute(select(func.min(chunk.c.id), func.max(chunk.c.id))).one()
    result.runs = delete_oldest(conn, task_runs, task_runs.c.id, expired)
    if result.runs:
        _delete_orphan_attempts(conn, first, last)
    for table in (task_rollups, task_rollup_durations, task_project_durations):
        for period, cutoff in ((MINUTE, runs_cutoff), (HOUR, request.rollups_before)):
            result.rollups += int(
                conn.execute(
                    delete(table).where(
                        table.c.period == period, table.c.bucket_start < cutoff.timestamp()
                    )
                ).rowcount
            )
    return result


def _delete_orphan_attempts(conn: Connection, first: int, last: int) -> None:
    """Attempts whose run is gone, among runs first..last: no foreign key cascades on
    PostgreSQL (migration 0109). After the runs, so an attempt added to one meanwhile (its
    writer held the run's lock, which the prune's delete waited for) goes too. A range, not
    a list of ids: SQLite before 3.32 takes at most 999 parameters."""
    run_gone = ~select(task_runs.c.id).where(task_runs.c.id == task_attempts.c.run_id).exists()
    conn.execute(delete(task_attempts).where(task_attempts.c.run_id.between(first, last), run_gone))


def prune(writer: GroupCommitWriter, request: PruneRequest) -> PruneResult:
    """Prune through the writer in small transactions until nothing is left to delete."""
    return prune_in_steps(writer, prune_step, request, PruneResult())


def request_for(now: datetime, days: float, rollup_days: float) -> PruneRequest:
    return PruneRequest(now - timedelta(days=days), now - timedelta(days=max(days, rollup_days)))


def task_pruner(
    writer: GroupCommitWriter,
    days: float,
    rollup_days: float,
    interval_seconds: float,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Pruner[PruneResult]:
    """Prunes the task log once at start-up and then every interval."""

    def run() -> PruneResult:
        return prune(writer, request_for(clock(), days, rollup_days))

    return Pruner("jobpulse-task-pruner", interval_seconds, run)
