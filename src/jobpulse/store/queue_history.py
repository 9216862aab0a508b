"""Reading the sample history of one queue: raw, or summarised per step in SQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Float,
    Integer,
    RowMapping,
    case,
    cast,
    func,
    select,
    type_coerce,
)

from jobpulse.store.queues_tables import queue_samples


def sample_history(
    conn: Connection,
    source_id: int,
    queue: str,
    start: datetime,
    end: datetime,
    limit: int,
) -> list[RowMapping]:
    query = (
        select(queue_samples)
        .where(
            queue_samples.c.source_id == source_id,
            queue_samples.c.queue == queue,
            queue_samples.c.taken_at >= start,
            queue_samples.c.taken_at <= end,
        )
        .order_by(queue_samples.c.taken_at)
        .limit(limit)
    )
    return list(conn.execute(query).mappings())


def sample_buckets(
    conn: Connection,
    source_id: int,
    queue: str,
    start: datetime,
    end: datetime,
    step: int,
    limit: int,
) -> list[dict[str, Any]]:
    """Samples in [start, end], summarised per `step` seconds in SQL (peaks per bucket), so
    a long range never loads every raw row."""
    epoch = type_coerce(queue_samples.c.taken_at, Float)
    # Bucket number = floor(epoch / step): SQLite's CAST truncates (the same for positive
    # times), PostgreSQL's rounds, so it gets floor().
    ratio = epoch / step
    floored = cast(ratio, Integer) if conn.dialect.name == "sqlite" else func.floor(ratio)
    bucket = floored.label("bucket")
    measures = [
        func.max(getattr(queue_samples.c, name)).label(name)
        for name in (
            "depth",
            "oldest_age_s",
            "in_progress",
            "scheduled",
            "failed",
            "consumers",
            "processed_total",
        )
    ]
    query = (
        select(
            bucket,
            *measures,
            func.count().label("n"),
            func.sum(case((queue_samples.c.ok.is_(True), 1), else_=0)).label("n_ok"),
        )
        .where(
            queue_samples.c.source_id == source_id,
            queue_samples.c.queue == queue,
            queue_samples.c.taken_at >= start,
            queue_samples.c.taken_at <= end,
        )
        .group_by(bucket)
        .order_by(bucket)
        .limit(limit)
    )
    rows = []
    for row in conn.execute(query).mappings():
        values = dict(row)
        values["taken_at"] = datetime.fromtimestamp(int(values.pop("bucket")) * step, tz=UTC)
        values["ok"] = bool(values.pop("n_ok"))
        rows.append(values)
    return rows
