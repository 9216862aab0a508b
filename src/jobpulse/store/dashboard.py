"""Reads the dashboard needs beyond the check repository: recent flips across a project,
recent durations per check, the tags in use."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, RowMapping, func, select

from jobpulse.store.tables import checks, flips, pings
from jobpulse.store.tasks_tables import task_runs


def recent_flips(conn: Connection, project_id: int, limit: int = 15) -> list[RowMapping]:
    query = (
        select(
            flips.c.id,
            flips.c.created_at,
            flips.c.old_status,
            flips.c.new_status,
            flips.c.reason,
            checks.c.uuid,
            checks.c.name,
        )
        .join(checks, checks.c.id == flips.c.check_id)
        .where(checks.c.project_id == project_id)
        .order_by(flips.c.id.desc())
        .limit(limit)
    )
    return list(conn.execute(query).mappings())


def recent_durations(
    conn: Connection, check_ids: Sequence[int], per_check: int = 20
) -> dict[int, list[float]]:
    """The last `per_check` run durations (ms) of each check, oldest first."""
    if not check_ids:
        return {}
    ranked = (
        select(
            pings.c.check_id,
            pings.c.duration_ms,
            func.row_number()
            .over(partition_by=pings.c.check_id, order_by=pings.c.id.desc())
            .label("n"),
        )
        .where(pings.c.check_id.in_(list(check_ids)), pings.c.duration_ms.is_not(None))
        .subquery()
    )
    query = (
        select(ranked.c.check_id, ranked.c.duration_ms)
        .where(ranked.c.n <= per_check)
        .order_by(ranked.c.check_id, ranked.c.n.desc())
    )
    found: dict[int, list[float]] = defaultdict(list)
    for check_id, duration_ms in conn.execute(query):
        found[check_id].append(float(duration_ms))
    return dict(found)


def project_tags(conn: Connection, project_id: int, limit: int = 5000) -> list[str]:
    query = select(checks.c.tags).where(checks.c.project_id == project_id).limit(limit)
    return sorted({tag for (tags,) in conn.execute(query) for tag in tags or []})


def flips_since(conn: Connection, check_id: int, since: datetime) -> list[RowMapping]:
    """Flips from `since` on, plus the last one before it (the state the window opens in)."""
    before = (
        select(flips)
        .where(flips.c.check_id == check_id, flips.c.created_at < since)
        .order_by(flips.c.id.desc())
        .limit(1)
    )
    inside = (
        select(flips)
        .where(flips.c.check_id == check_id, flips.c.created_at >= since)
        .order_by(flips.c.id)
        .limit(2000)
    )
    return list(conn.execute(before).mappings()) + list(conn.execute(inside).mappings())


def has_task_runs(conn: Connection, project_id: int) -> bool:
    query = select(task_runs.c.id).where(task_runs.c.project_id == project_id).limit(1)
    return conn.execute(query).first() is not None
