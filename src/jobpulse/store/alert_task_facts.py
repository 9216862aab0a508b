"""Adapters from the task log (task_runs) and the queue tables (queue_latest, queue_samples,
workers) to rule facts. They only read those areas' tables."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, func, select

from jobpulse.domain.facts import QueueFact, Subject, TaskWindow, WorkerFact
from jobpulse.store.queues_tables import queue_latest, queue_samples, queue_sources, workers
from jobpulse.store.tasks_tables import has_status, task_runs

TERMINAL = ("success", "failed", "expired", "canceled")
BASELINE = timedelta(hours=24)  # how far before the window "usual throughput" looks
HISTORY = timedelta(days=30)  # how far back a task's own duration history goes
HISTORY_ROWS = 20_000
WINDOW_ROWS = 50_000


@dataclass
class _TaskTally:
    queue: str
    tags: set[str] = field(default_factory=set)
    finished: int = 0
    failed: int = 0
    durations: list[float] = field(default_factory=list)
    retries: list[int] = field(default_factory=list)
    running_since: list[datetime] = field(default_factory=list)
    history: list[float] = field(default_factory=list)
    baseline_runs: int = 0


def _tally(tallies: dict[str, _TaskTally], row: Any) -> _TaskTally:
    tally = tallies.get(row.task_name)
    if tally is None:
        tally = tallies[row.task_name] = _TaskTally(row.queue_name)
    return tally


def task_windows(
    conn: Connection, project_id: int, window: timedelta, now: datetime
) -> tuple[TaskWindow, ...]:
    """Per task: finished and failed runs, durations and retries inside the window; runs
    still in progress; successful durations before the window; runs per hour before it."""
    start = now - window
    mine = task_runs.c.project_id == project_id
    tallies: dict[str, _TaskTally] = {}
    finished = (
        select(task_runs)
        .where(mine, task_runs.c.status.in_(TERMINAL), task_runs.c.finish_time > start)
        .order_by(task_runs.c.finish_time.desc())
        .limit(WINDOW_ROWS)
    )
    for row in conn.execute(finished):
        tally = _tally(tallies, row)
        tally.finished += 1
        tally.failed += row.status == "failed"
        tally.tags.update(row.tags or ())
        tally.retries.append(row.job_retries or 0)
        if row.duration_ms is not None:
            tally.durations.append(row.duration_ms / 1000)
    running = select(task_runs).where(
        mine, *has_status("in_progress"), task_runs.c.start_time.is_not(None)
    )
    for row in conn.execute(running.limit(WINDOW_ROWS)):
        _tally(tallies, row).running_since.append(row.start_time)
    history = (
        select(task_runs.c.task_name, task_runs.c.queue_name, task_runs.c.duration_ms)
        .where(
            mine,
            task_runs.c.status == "success",
            task_runs.c.duration_ms.is_not(None),
            task_runs.c.finish_time <= start,
            task_runs.c.finish_time > start - HISTORY,
        )
        .order_by(task_runs.c.finish_time.desc())
        .limit(HISTORY_ROWS)
    )
    for row in conn.execute(history):
        _tally(tallies, row).history.append(row.duration_ms / 1000)
    baseline = (
        select(task_runs.c.task_name, task_runs.c.queue_name, func.count().label("runs"))
        .where(mine, task_runs.c.created_at <= start, task_runs.c.created_at > start - BASELINE)
        .group_by(task_runs.c.task_name, task_runs.c.queue_name)
    )
    for row in conn.execute(baseline):
        _tally(tallies, row).baseline_runs += row.runs
    hours = BASELINE.total_seconds() / 3600
    return tuple(
        TaskWindow(
            subject=Subject("task", name, name, frozenset(t.tags), t.queue),
            finished=t.finished,
            failed=t.failed,
            durations=tuple(t.durations),
            retries=tuple(t.retries),
            running_since=tuple(t.running_since),
            history_durations=tuple(t.history),
            baseline_per_hour=t.baseline_runs / hours,
        )
        for name, t in sorted(tallies.items())
    )


def queue_facts(
    conn: Connection, project_id: int, window: timedelta, now: datetime
) -> tuple[QueueFact, ...]:
    """Each queue's newest sample, and how many jobs it finished within the window (from the
    broker's processed counter where it keeps one, else from the task log)."""
    latest = (
        select(queue_sources.c.name.label("source"), queue_samples)
        .join(queue_latest, queue_latest.c.sample_id == queue_samples.c.id)
        .join(queue_sources, queue_sources.c.id == queue_latest.c.source_id)
        .where(queue_sources.c.project_id == project_id, queue_samples.c.ok.is_(True))
    )
    facts = []
    for row in conn.execute(latest):
        oldest = (
            row.taken_at - timedelta(seconds=row.oldest_age_s)
            if row.oldest_age_s is not None
            else None
        )
        subject = Subject("queue", f"{row.source}:{row.queue}", row.queue, queue=row.queue)
        processed = _processed(conn, project_id, row, now - window)
        facts.append(QueueFact(subject, int(row.depth), oldest, processed))
    return tuple(facts)


def _processed(conn: Connection, project_id: int, latest: Any, since: datetime) -> int | None:
    first = conn.execute(
        select(queue_samples.c.processed_total, queue_samples.c.taken_at)
        .where(
            queue_samples.c.source_id == latest.source_id,
            queue_samples.c.queue == latest.queue,
            queue_samples.c.taken_at <= since,
            queue_samples.c.processed_total.is_not(None),
        )
        .order_by(queue_samples.c.taken_at.desc())
        .limit(1)
    ).first()
    if first is not None and latest.processed_total is not None:
        return max(0, int(latest.processed_total - first.processed_total))
    if latest.taken_at - since < timedelta(0):
        return None
    finished = conn.execute(
        select(func.count()).where(
            and_(
                task_runs.c.project_id == project_id,
                task_runs.c.queue_name == latest.queue,
                task_runs.c.finish_time > since,
            )
        )
    ).scalar_one()
    return int(finished)


def worker_facts(
    conn: Connection, project_id: int, window: timedelta, now: datetime
) -> tuple[WorkerFact, ...]:
    """Workers not known to have stopped cleanly, with when each was last seen."""
    query = select(workers).where(workers.c.project_id == project_id, workers.c.state != "offline")
    facts = []
    for row in conn.execute(query.order_by(workers.c.id)):
        queue = row.queues[0] if row.queues else None
        label = row.worker_id if not row.hostname else f"{row.worker_id} on {row.hostname}"
        subject = Subject("worker", f"{row.origin}:{row.worker_id}", label, queue=queue)
        facts.append(WorkerFact(subject, row.last_seen_at))
    return tuple(facts)
