"""Retention of the task log: raw runs, attempts and events go after N days; minute rollups
go with them and hourly rollups stay much longer, so old stats and timelines survive."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, Connection, Table, delete, select

from jobpulse.engine.loop import PeriodicLoop
from jobpulse.store.tasks_tables import (
    HOUR,
    MINUTE,
    task_rollup_durations,
    task_rollups,
    task_runs,
)
from jobpulse.store.writer import GroupCommitWriter

# Rows deleted per transaction, so ingest never waits long behind a prune.
PRUNE_CHUNK = 5000


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


def _delete_chunk(
    conn: Connection, table: Table, id_column: ColumnElement[int], condition: ColumnElement[bool]
) -> int:
    # In id order, so nodes pruning at the same time lock rows in the same order.
    oldest = select(id_column).where(condition).order_by(id_column).limit(PRUNE_CHUNK)
    return int(conn.execute(delete(table).where(id_column.in_(oldest.scalar_subquery()))).rowcount)


def prune_step(conn: Connection, request: PruneRequest) -> PruneResult:
    """Delete at most PRUNE_CHUNK rows of each kind; repeat until it returns zero."""
    result = PruneResult()
    runs_cutoff = request.runs_before
    # Attempts go with their run (ON DELETE CASCADE).
    result.runs = _delete_chunk(
        conn, task_runs, task_runs.c.id, task_runs.c.created_at < runs_cutoff
    )
    for table in (task_rollups, task_rollup_durations):
        for period, cutoff in ((MINUTE, runs_cutoff), (HOUR, request.rollups_before)):
            result.rollups += int(
                conn.execute(
                    delete(table).where(
                        table.c.period == period, table.c.bucket_start < cutoff.timestamp()
                    )
                ).rowcount
            )
    return result


def prune_handler(conn: Connection, requests: Sequence[PruneRequest]) -> list[PruneResult]:
    return [prune_step(conn, request) for request in requests]


def prune(writer: GroupCommitWriter, request: PruneRequest) -> PruneResult:
    """Prune through the writer in small transactions until nothing is left to delete."""
    total = PruneResult()
    while True:
        step: PruneResult = writer.run_sync(prune_handler, request, timeout=600)
        total += step
        if step.total == 0:
            return total


def request_for(now: datetime, days: float, rollup_days: float) -> PruneRequest:
    return PruneRequest(now - timedelta(days=days), now - timedelta(days=max(days, rollup_days)))


class TaskPruner:
    """Background service: prunes the task log once at start-up and then every interval."""

    def __init__(
        self,
        writer: GroupCommitWriter,
        days: float,
        rollup_days: float,
        interval_seconds: float,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._writer = writer
        self._days = days
        self._rollup_days = rollup_days
        self._clock = clock
        # A pass over a large backlog is many short transactions: long, not hung.
        self.loop = PeriodicLoop(
            "jobpulse-task-pruner", interval_seconds, self.run_once, hung_after=float("inf")
        )
        self.last_result: PruneResult | None = None

    def start(self) -> None:
        self.loop.start()

    def stop(self) -> None:
        self.loop.stop()

    def run_once(self) -> PruneResult:
        request = request_for(self._clock(), self._days, self._rollup_days)
        self.last_result = prune(self._writer, request)
        return self.last_result
