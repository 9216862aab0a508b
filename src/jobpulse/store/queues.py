"""Repository of queue samples and workers: recording sweeps and heartbeats, reading the
latest state of each queue (with its stall verdict), the sample history and the workers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, RowMapping, and_, delete, insert, select, update

from jobpulse.domain.queues import (
    DepthPoint,
    SourceSample,
    StallVerdict,
    WorkerObservation,
    WorkerStatus,
    stall_verdict,
    worker_status,
)
from jobpulse.store.queues_tables import queue_latest, queue_samples, queue_sources, workers
from jobpulse.store.rows import each
from jobpulse.store.tasks_tables import task_runs

SDK_ORIGIN = "sdk"


def source_origin(source_id: int) -> str:
    return f"source:{source_id}"


@dataclass(frozen=True)
class RecordedSweep:
    source_id: int
    project_id: int
    sample: SourceSample


def _sample_values(source_id: int, sample: SourceSample) -> list[dict[str, Any]]:
    return [
        {
            "source_id": source_id,
            "queue": q.queue[:200],
            "taken_at": sample.taken_at,
            "resolution_s": 0,
            "ok": True,
            "error": None,
            "depth": q.depth,
            "oldest_age_s": q.oldest_age_seconds,
            "oldest_age_reason": (q.oldest_age_reason or None) and q.oldest_age_reason[:200],
            "in_progress": q.in_progress,
            "scheduled": q.scheduled,
            "failed": q.failed,
            "consumers": q.consumers,
            "processed_total": q.processed_total,
            "abandoned": q.abandoned,
        }
        for q in sample.queues
    ]


def _failed_values(conn: Connection, source_id: int, sample: SourceSample) -> list[dict[str, Any]]:
    """A failed sweep leaves one failed row for each queue the source had, so every queue
    shows that it is not being read, and why."""
    known = conn.execute(
        select(queue_latest.c.queue).where(queue_latest.c.source_id == source_id)
    ).scalars()
    return [
        {
            "source_id": source_id,
            "queue": name,
            "taken_at": sample.taken_at,
            "resolution_s": 0,
            "ok": False,
            "error": (sample.error or "")[:2000],
            "depth": 0,
        }
        for name in known
    ]


def _record(conn: Connection, sweep: RecordedSweep) -> int:
    sample = sweep.sample
    rows = (
        _sample_values(sweep.source_id, sample)
        if sample.ok
        else _failed_values(conn, sweep.source_id, sample)
    )
    for row in rows:
        sample_id = conn.execute(insert(queue_samples).values(**row)).inserted_primary_key[0]
        _set_latest(conn, sweep.source_id, row["queue"], sample_id, sample.taken_at)
    if sample.ok:
        # A queue the broker no longer has leaves the listing (its history stays).
        conn.execute(
            delete(queue_latest).where(
                queue_latest.c.source_id == sweep.source_id,
                queue_latest.c.queue.not_in([row["queue"] for row in rows]),
            )
        )
    conn.execute(
        update(queue_sources)
        .where(queue_sources.c.id == sweep.source_id)
        .values(last_sample_at=sample.taken_at, last_error=sample.error)
    )
    origin = source_origin(sweep.source_id)
    for worker in sample.workers:
        _upsert_worker(conn, sweep.project_id, origin, sweep.source_id, worker)
    return len(rows)


def _set_latest(
    conn: Connection, source_id: int, queue: str, sample_id: int, taken_at: datetime
) -> None:
    key = and_(queue_latest.c.source_id == source_id, queue_latest.c.queue == queue)
    changed = conn.execute(
        update(queue_latest).where(key).values(sample_id=sample_id, taken_at=taken_at)
    ).rowcount
    if not changed:
        conn.execute(
            insert(queue_latest).values(
                source_id=source_id, queue=queue, sample_id=sample_id, taken_at=taken_at
            )
        )


def _upsert_worker(
    conn: Connection,
    project_id: int,
    origin: str,
    source_id: int | None,
    worker: WorkerObservation,
) -> None:
    values = {
        "library": worker.library,
        "hostname": (worker.hostname or None) and worker.hostname[:200],
        "pid": worker.pid,
        "queues": list(worker.queues),
        "current_job": (worker.current_job or None) and worker.current_job[:200],
        "heartbeat_interval_s": worker.heartbeat_interval_seconds,
        "last_seen_at": worker.last_seen,
        "state": "online" if worker.online else "offline",
    }
    key = and_(
        workers.c.project_id == project_id,
        workers.c.origin == origin,
        workers.c.worker_id == worker.worker_id[:200],
    )
    existing = conn.execute(select(workers.c.id, workers.c.last_seen_at).where(key)).first()
    if existing is None:
        conn.execute(
            insert(workers).values(
                project_id=project_id,
                origin=origin,
                source_id=source_id,
                worker_id=worker.worker_id[:200],
                first_seen_at=worker.last_seen,
                **values,
            )
        )
    elif existing.last_seen_at <= worker.last_seen:
        conn.execute(update(workers).where(workers.c.id == existing.id).values(**values))


def _heartbeat(conn: Connection, argument: tuple[int, WorkerObservation]) -> bool:
    project_id, worker = argument
    _upsert_worker(conn, project_id, SDK_ORIGIN, None, worker)
    return True


record_sweep = each(_record)
record_heartbeat = each(_heartbeat)


# Reading ---------------------------------------------------------------------------------


def stall_window(source: RowMapping) -> timedelta:
    """How long a queue may go without progress before it is called stalled (default: one
    sample interval, i.e. two sweeps in a row saw no progress)."""
    configured = (source["options"] or {}).get("stall_window_s")
    try:
        return timedelta(seconds=float(configured or source["interval_s"]))
    except (TypeError, ValueError):  # written around the API's validation (SQL, old file)
        return timedelta(seconds=float(source["interval_s"]))


def _worker_status(row: RowMapping, now: datetime) -> WorkerStatus:
    interval = row["heartbeat_interval_s"]
    return worker_status(
        row["last_seen_at"],
        now,
        timedelta(seconds=interval) if interval else None,
        online=row["state"] != "offline",
    )


def _alive_workers_by_queue(
    conn: Connection, project_id: int, now: datetime
) -> tuple[dict[tuple[int | None, str], int], dict[int, int]]:
    """Live workers per (source, queue) and, for workers that do not say which queues they
    serve, per source. SDK workers count for a queue of that name in every source."""
    rows = conn.execute(select(workers).where(workers.c.project_id == project_id)).mappings()
    by_queue: dict[tuple[int | None, str], int] = {}
    by_source: dict[int, int] = {}
    for row in rows:
        if _worker_status(row, now) is not WorkerStatus.ALIVE:
            continue
        if not row["queues"] and row["source_id"] is not None:
            by_source[row["source_id"]] = by_source.get(row["source_id"], 0) + 1
        for name in row["queues"] or ():
            key = (row["source_id"], name)
            by_queue[key] = by_queue.get(key, 0) + 1
    return by_queue, by_source


def _recent_points(
    conn: Connection, source_ids: Sequence[int], since: datetime
) -> dict[tuple[int, str], list[DepthPoint]]:
    query = (
        select(
            queue_samples.c.source_id,
            queue_samples.c.queue,
            queue_samples.c.taken_at,
            queue_samples.c.depth,
            queue_samples.c.processed_total,
        )
        .where(
            queue_samples.c.source_id.in_(source_ids),
            queue_samples.c.taken_at >= since,
            queue_samples.c.ok.is_(True),
        )
        .order_by(queue_samples.c.taken_at)
    )
    points: dict[tuple[int, str], list[DepthPoint]] = {}
    for row in conn.execute(query):
        points.setdefault((row.source_id, row.queue), []).append(
            DepthPoint(row.taken_at, row.depth, row.processed_total)
        )
    return points


def _last_run_finished(
    conn: Connection, project_id: int, queue: str, since: datetime
) -> datetime | None:
    """When a run from this queue last finished after `since`, from the task log (runs the
    SDK reported). Looks only at runs created in the day before, so it stays an index range."""
    found = conn.execute(
        select(task_runs.c.finish_time)
        .where(
            task_runs.c.project_id == project_id,
            task_runs.c.queue_name == queue,
            task_runs.c.created_at >= since - timedelta(days=1),
            task_runs.c.finish_time > since,
        )
        .limit(1)
    ).first()
    return found.finish_time if found else None


@dataclass(frozen=True)
class QueueState:
    source: RowMapping
    sample: RowMapping
    verdict: StallVerdict
    alive_workers: int


def queue_states(
    conn: Connection,
    project_id: int,
    now: datetime,
    *,
    queue: str | None = None,
    source: str | None = None,
) -> list[QueueState]:
    """The latest sample of each queue with its stall verdict (what alert rules read)."""
    sources = {
        row["id"]: row
        for row in conn.execute(
            select(queue_sources).where(queue_sources.c.project_id == project_id)
        ).mappings()
        if source is None or row["name"] == source
    }
    if not sources:
        return []
    query = (
        select(queue_samples)
        .join(queue_latest, queue_latest.c.sample_id == queue_samples.c.id)
        .where(queue_latest.c.source_id.in_(list(sources)))
        .order_by(queue_latest.c.queue, queue_latest.c.source_id)
    )
    if queue is not None:
        query = query.where(queue_latest.c.queue == queue)
    latest = list(conn.execute(query).mappings())
    # The window, plus room for the last sample before it (a sweep may come late).
    reach = max(
        (stall_window(s) + timedelta(seconds=3 * s["interval_s"]) for s in sources.values()),
        default=timedelta(0),
    )
    points = _recent_points(conn, list(sources), now - reach)
    by_queue, by_source = _alive_workers_by_queue(conn, project_id, now)
    states = []
    for sample in latest:
        owner = sources[sample["source_id"]]
        alive = (
            by_queue.get((owner["id"], sample["queue"]), 0)
            + by_queue.get((None, sample["queue"]), 0)
            + by_source.get(owner["id"], 0)
            # Consumers a broker counts (RabbitMQ) are live connections: workers too.
            + (sample["consumers"] or 0 if sample["ok"] else 0)
        )
        series = points.get((owner["id"], sample["queue"]), [])
        window = stall_window(owner)
        verdict = stall_verdict(series, now, window, alive)
        if verdict.stalled:
            finished = _last_run_finished(conn, project_id, sample["queue"], now - window)
            verdict = stall_verdict(series, now, window, alive, last_finished_at=finished)
        states.append(QueueState(owner, sample, verdict, alive))
    return states


def list_workers(
    conn: Connection, project_id: int, now: datetime, status: WorkerStatus | None
) -> list[tuple[RowMapping, WorkerStatus]]:
    query = (
        select(workers, queue_sources.c.name.label("source"))
        .outerjoin(queue_sources, queue_sources.c.id == workers.c.source_id)
        .where(workers.c.project_id == project_id)
        .order_by(workers.c.last_seen_at.desc(), workers.c.id)
    )
    rows = [(row, _worker_status(row, now)) for row in conn.execute(query).mappings()]
    return [(row, s) for row, s in rows if status is None or s is status]


def forget_gone_workers(conn: Connection, now: datetime, after: timedelta) -> int:
    """Delete workers silent for longer than `after`: autoscaled and dead workers do not
    stay as ghosts, and the set of worker labels stays bounded."""
    result = conn.execute(delete(workers).where(workers.c.last_seen_at < now - after))
    return result.rowcount or 0
