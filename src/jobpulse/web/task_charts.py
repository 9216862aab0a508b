"""Task charts over the last hours: throughput, success rate and average duration."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from markupsafe import Markup
from sqlalchemy import Connection

from jobpulse.store import tasks_stats as stats
from jobpulse.store.tasks_tables import HOUR
from jobpulse.web import charts
from jobpulse.web.formatting import duration


@dataclass(frozen=True)
class TaskCharts:
    totals: stats.Totals
    throughput: Markup
    success_rate: Markup
    durations: Markup
    first_hour: datetime
    hours: int


def hourly(
    conn: Connection,
    project_id: int,
    now: datetime,
    hours: int = 24,
    task_name: str | None = None,
    queue_name: str | None = None,
) -> list[stats.TimelineBucket]:
    since = now - timedelta(hours=hours)
    if queue_name is None:
        return stats.timeline(conn, project_id, since, now, HOUR, task_name)
    # The rollup timeline has no queue filter; a day is 24 small reads of the same rollups.
    first = datetime.fromtimestamp(since.timestamp() // HOUR * HOUR, tz=now.tzinfo)
    return [
        stats.TimelineBucket(
            start,
            stats.totals(
                conn,
                project_id,
                start,
                until=start + timedelta(hours=1),
                task_name=task_name,
                queue_name=queue_name,
                with_histogram=False,
            ),
        )
        for start in (first + timedelta(hours=i) for i in range(hours + 1))
        if start < now
    ]


def _label(bucket: stats.TimelineBucket) -> str:
    return f"{bucket.start:%d %b %H:00} UTC"


def build(
    conn: Connection,
    project_id: int,
    now: datetime,
    hours: int = 24,
    task_name: str | None = None,
    queue_name: str | None = None,
) -> TaskCharts:
    buckets = hourly(conn, project_id, now, hours, task_name, queue_name)
    totals = stats.totals(
        conn, project_id, now - timedelta(hours=hours), task_name=task_name, queue_name=queue_name
    )
    throughput = []
    rates: list[float | None] = []
    durations = []
    for bucket in buckets:
        counts = bucket.totals.by_status
        other = bucket.totals.total - counts["success"] - counts["failed"]
        label = _label(bucket)
        throughput.append(
            [
                charts.Bar(counts["success"], "ok", f"{label}: {counts['success']} succeeded"),
                charts.Bar(counts["failed"], "bad", f"{label}: {counts['failed']} failed"),
                charts.Bar(other, "muted", f"{label}: {other} other"),
            ]
        )
        completed = counts["success"] + counts["failed"]
        rates.append(counts["success"] / completed * 100 if completed else None)
        average = bucket.totals.avg_duration_ms
        durations.append(charts.Bar(average or 0, "info", f"{label}: average {duration(average)}"))
    return TaskCharts(
        totals=totals,
        throughput=charts.stacked_chart(throughput, "runs per hour"),
        success_rate=charts.line_chart(rates, "success rate per hour, percent"),
        durations=charts.bar_chart(durations, "average duration per hour"),
        first_hour=buckets[0].start if buckets else now,
        hours=hours,
    )
