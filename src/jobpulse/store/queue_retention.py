"""Thinning queue samples as they age: raw for 2 days, one per minute for 30 days, one per
hour after. Runs in bounded batches so one pass never holds the writer for long."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import Connection, RowMapping, delete, insert, select

from jobpulse.domain.queues import (
    HOUR,
    MINUTE,
    MINUTE_RETENTION,
    RAW_RETENTION,
    StoredSample,
    downsample,
)
from jobpulse.store.queues_tables import queue_latest, queue_samples

STEPS: tuple[tuple[int, int, timedelta], ...] = (
    (0, MINUTE, RAW_RETENTION),
    (MINUTE, HOUR, MINUTE_RETENTION),
)


def stored_sample(row: RowMapping) -> StoredSample:
    return StoredSample(
        at=row["taken_at"],
        depth=row["depth"],
        oldest_age_seconds=row["oldest_age_s"],
        in_progress=row["in_progress"],
        scheduled=row["scheduled"],
        failed=row["failed"],
        consumers=row["consumers"],
        processed_total=row["processed_total"],
        abandoned=row["abandoned"],
        ok=row["ok"],
        error=row["error"],
    )


def _summary_row(source_id: int, queue: str, step: int, s: StoredSample) -> dict[str, object]:
    return {
        "source_id": source_id,
        "queue": queue,
        "taken_at": s.at,
        "resolution_s": step,
        "ok": s.ok,
        "error": s.error,
        "depth": s.depth,
        "oldest_age_s": s.oldest_age_seconds,
        "in_progress": s.in_progress,
        "scheduled": s.scheduled,
        "failed": s.failed,
        "consumers": s.consumers,
        "processed_total": s.processed_total,
        "abandoned": s.abandoned,
    }


def _summarise_batch(conn: Connection, rows: Sequence[RowMapping], step: int) -> None:
    groups: dict[tuple[int, str], list[StoredSample]] = {}
    for row in rows:
        groups.setdefault((row["source_id"], row["queue"]), []).append(stored_sample(row))
    summaries = [
        _summary_row(source_id, queue, step, summary)
        for (source_id, queue), samples in groups.items()
        for summary in downsample(samples, step)
    ]
    if summaries:
        conn.execute(insert(queue_samples), summaries)
    conn.execute(delete(queue_samples).where(queue_samples.c.id.in_([r["id"] for r in rows])))


def downsample_queue_samples(conn: Connection, now: datetime, batch: int = 5000) -> int:
    """One bounded pass; returns how many rows were folded (call again while > 0).

    A bucket cut by the batch limit becomes two rows of the same resolution: harmless, since
    reads summarise again by the step asked for.
    """
    folded = 0
    in_use = select(queue_latest.c.sample_id)
    for source_resolution, step, keep_for in STEPS:
        rows = list(
            conn.execute(
                select(queue_samples)
                .where(
                    queue_samples.c.resolution_s == source_resolution,
                    queue_samples.c.taken_at < now - keep_for,
                    queue_samples.c.id.not_in(in_use),
                )
                .order_by(queue_samples.c.id)
                .limit(batch)
            ).mappings()
        )
        if rows:
            _summarise_batch(conn, rows, step)
            folded += len(rows)
    return folded
