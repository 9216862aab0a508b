"""Stats, timelines and the overview, read from the rollups (never from raw runs).

A window is covered by whole hours where it can be and by minutes at its ragged start, so
24 hours of one busy project read a few thousand rows at most. Windows start at a minute.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, and_, func, select

from jobpulse.domain.stats import merge, percentile
from jobpulse.store.tasks_rows import ROLLUP_VALUE_COLUMNS
from jobpulse.store.tasks_tables import (
    HOUR,
    MINUTE,
    ROLLUP_STATUSES,
    task_project_durations,
    task_rollup_durations,
    task_rollups,
)

_COUNT_COLUMNS = ROLLUP_VALUE_COLUMNS


@dataclass
class Totals:
    """Counts by status and the duration histogram of the runs created in a window."""

    by_status: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ROLLUP_STATUSES, 0))
    duration_count: int = 0
    duration_sum_ms: float = 0.0
    histogram: dict[int, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.by_status.values())

    @property
    def avg_duration_ms(self) -> float | None:
        return self.duration_sum_ms / self.duration_count if self.duration_count else None

    @property
    def success_rate(self) -> float:
        """Successful / completed (success + failed), in percent, as the seed computes it."""
        completed = self.by_status["success"] + self.by_status["failed"]
        return round(self.by_status["success"] / completed * 100, 2) if completed else 0.0

    def percentile(self, q: float) -> float | None:
        return percentile(self.histogram, q)

    def add(self, row: Any) -> None:
        for status in ROLLUP_STATUSES:
            self.by_status[status] += int(getattr(row, f"n_{status}") or 0)
        self.duration_count += int(row.duration_count or 0)
        self.duration_sum_ms += float(row.duration_sum_ms or 0.0)


def _windows(table: Any, since: datetime, until: datetime | None) -> list[Any]:
    """Hours fully inside [since, until), and the minutes before the first full hour: one
    key range each. (Not one `OR` of both: SQLite reads an OR of ranges by key only from a
    rowid table, and the rollups are WITHOUT ROWID.)"""
    start = since.timestamp() // MINUTE * MINUTE
    first_hour = -(-start // HOUR) * HOUR
    hours = [table.c.period == HOUR, table.c.bucket_start >= first_hour]
    minutes = [
        table.c.period == MINUTE,
        table.c.bucket_start >= start,
        table.c.bucket_start < first_hour,
    ]
    if until is not None:
        for window in (hours, minutes):
            window.append(table.c.bucket_start < until.timestamp())
    return [and_(*hours), and_(*minutes)]


def _scope(table: Any, project_id: int, task_name: str | None, queue_name: str | None) -> list[Any]:
    found = [table.c.project_id == project_id]
    if task_name is not None:
        found.append(table.c.task_name == task_name)
    if queue_name is not None:
        found.append(table.c.queue_name == queue_name)
    return found


def totals(
    conn: Connection,
    project_id: int,
    since: datetime,
    *,
    until: datetime | None = None,
    task_name: str | None = None,
    queue_name: str | None = None,
    with_histogram: bool = True,
) -> Totals:
    found = Totals()
    scope = _scope(task_rollups, project_id, task_name, queue_name)
    sums = [func.sum(task_rollups.c[c]).label(c) for c in _COUNT_COLUMNS]
    for window in _windows(task_rollups, since, until):
        found.add(conn.execute(select(*sums).where(*scope, window)).one())
    if with_histogram:
        whole_project = task_name is None and queue_name is None
        t = task_project_durations if whole_project else task_rollup_durations
        parts = [
            conn.execute(
                select(t.c.bucket, func.sum(t.c.count))
                .where(*_scope(t, project_id, task_name, queue_name), window)
                .group_by(t.c.bucket)
            ).all()
            for window in _windows(t, since, until)
        ]
        found.histogram = merge(*({int(b): int(n) for b, n in part} for part in parts))
    return found


@dataclass(frozen=True)
class TimelineBucket:
    start: datetime
    totals: Totals


def timeline(
    conn: Connection,
    project_id: int,
    since: datetime,
    until: datetime,
    interval_seconds: int,
    task_name: str | None = None,
) -> list[TimelineBucket]:
    """Every bucket of `interval_seconds` (a multiple of an hour) from since to until."""
    t = task_rollups
    first = since.timestamp() // interval_seconds * interval_seconds
    rows = conn.execute(
        select(t.c.bucket_start, *(func.sum(t.c[c]).label(c) for c in _COUNT_COLUMNS))
        .where(
            *_scope(t, project_id, task_name, None),
            t.c.period == HOUR,
            t.c.bucket_start >= first,
            t.c.bucket_start < until.timestamp(),
        )
        .group_by(t.c.bucket_start)
    ).all()
    buckets: dict[float, Totals] = {}
    start = first
    while start < until.timestamp():
        buckets[start] = Totals()
        start += interval_seconds
    for row in rows:
        key = float(row.bucket_start) // interval_seconds * interval_seconds
        buckets.setdefault(key, Totals()).add(row)
    return [
        TimelineBucket(datetime.fromtimestamp(key, tz=UTC), value)
        for key, value in sorted(buckets.items())
    ]


@dataclass(frozen=True)
class GroupCount:
    name: str
    totals: Totals


def totals_by(
    conn: Connection, project_id: int, since: datetime | None, column: str
) -> list[GroupCount]:
    """Totals per task_name or queue_name, from the hourly rollups (all time when since=None)."""
    t = task_rollups
    where: list[Any] = [t.c.project_id == project_id, t.c.period == HOUR]
    if since is not None:
        where.append(t.c.bucket_start >= since.timestamp() // HOUR * HOUR)
    rows = conn.execute(
        select(t.c[column].label("name"), *(func.sum(t.c[c]).label(c) for c in _COUNT_COLUMNS))
        .where(*where)
        .group_by(t.c[column])
        .order_by(t.c[column])
    ).all()
    found = []
    for row in rows:
        group = GroupCount(row.name, Totals())
        group.totals.add(row)
        found.append(group)
    return found


def sum_totals(groups: Sequence[GroupCount]) -> Totals:
    found = Totals()
    for group in groups:
        for status, n in group.totals.by_status.items():
            found.by_status[status] += n
        found.duration_count += group.totals.duration_count
        found.duration_sum_ms += group.totals.duration_sum_ms
    return found
