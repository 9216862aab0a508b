"""World metrics of the task log, queues, workers and alerts, in celery-exporter's style.

The tables are named with lightweight `table()`/`column()` clauses: this module depends on
table and column names only, not on the areas' modules, and a source is skipped until its
tables exist. Times in those tables are epoch seconds (see store.tables.Timestamp).
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from sqlalchemy import Connection, column, func, select, table

from jobpulse.domain.stats import GAMMA
from jobpulse.telemetry.world import (
    ScrapeContext,
    kept_names,
    label_of,
    register_source,
)

TERMINAL_STATES = ("success", "failed", "expired", "canceled")
ACTIVE_STATES = ("deferred", "queued", "in_progress", "retrying")
RUNTIME_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0)
# A worker silent for this many heartbeat intervals (or 60 s without one) counts as down.
WORKER_MISSED_BEATS = 3
WORKER_DEFAULT_SILENCE_S = 60.0
MAX_LIBRARIES = 20

_ROLLUP_STATUSES = (*ACTIVE_STATES, *TERMINAL_STATES)
_HOUR = 3600
task_rollups = table(
    "task_rollups",
    column("task_name"),
    column("queue_name"),
    column("period"),
    column("duration_count"),
    column("duration_sum_ms"),
    *(column(f"n_{status}") for status in _ROLLUP_STATUSES),
)
task_rollup_durations = table(
    "task_rollup_durations",
    column("task_name"),
    column("queue_name"),
    column("period"),
    column("bucket"),
    column("count"),
)
queue_sources = table(
    "queue_sources",
    column("id"),
    column("name"),
    column("enabled"),
    column("last_error"),
    column("last_sample_at"),
)
queue_samples = table(
    "queue_samples",
    column("id"),
    column("depth"),
    column("oldest_age_s"),
    column("consumers"),
    column("in_progress"),
    column("ok"),
)
queue_latest = table("queue_latest", column("source_id"), column("queue"), column("sample_id"))
workers = table(
    "workers",
    column("library"),
    column("current_job"),
    column("heartbeat_interval_s"),
    column("last_seen_at"),
)
alert_outbox = table("alert_outbox", column("status"), column("created_at"))
incidents = table("incidents", column("status"))


def _added(left: list[float] | None, right: list[float]) -> list[float]:
    return right if left is None else [a + b for a, b in zip(left, right, strict=True)]


class TasksSource:
    """Counts and run-time histograms of the task log, read from its hourly rollups: the cost
    of a scrape depends on the task, queue and hour count kept, not on the number of runs."""

    name = "tasks"
    tables = ("task_rollups", "task_rollup_durations")

    def collect(self, conn: Connection, context: ScrapeContext) -> Iterable[Metric]:
        pair = (task_rollups.c.task_name, task_rollups.c.queue_name)
        sums = [func.sum(task_rollups.c[f"n_{status}"]) for status in _ROLLUP_STATUSES]
        durations = (
            func.sum(task_rollups.c.duration_count),
            func.sum(task_rollups.c.duration_sum_ms) / 1000.0,
        )
        rows = list(
            conn.execute(
                select(*pair, *durations, *sums)
                .where(task_rollups.c.period == _HOUR)
                .group_by(*pair)
            )
        )
        by_name: dict[str, float] = defaultdict(float)
        by_queue: dict[str, float] = defaultdict(float)
        for name, queue, _count, _total, *per_status in rows:
            runs = sum(float(n or 0) for n in per_status)
            by_name[str(name)] += runs
            by_queue[str(queue)] += runs
        names = kept_names(by_name, context.max_label_values)
        queues = kept_names(by_queue, context.max_label_values)

        counts: dict[tuple[str, str, str], float] = defaultdict(float)
        totals: dict[tuple[str, str], list[float]] = {}
        for name, queue, count, total, *per_status in rows:
            labels = (label_of(name, names), label_of(queue, queues))
            for status, n in zip(_ROLLUP_STATUSES, per_status, strict=True):
                if n:
                    counts[(*labels, status)] += float(n)
            totals[labels] = _added(totals.get(labels), [float(count or 0), float(total or 0)])
        yield from self._counts(counts)
        yield self._histogram(self._runtimes(conn, names, queues, totals))

    @staticmethod
    def _runtimes(
        conn: Connection,
        names: set[str],
        queues: set[str],
        totals: dict[tuple[str, str], list[float]],
    ) -> dict[tuple[str, str], list[float]]:
        """(name, queue) → [count, sum, cumulative bucket counts...] of finished runs.

        Each rollup bucket (1 % wide, see domain.stats) is counted under the first bound above
        its lower edge: a run exactly at a bound counts under it, and a count is exact to
        within 1 % of its bound."""
        pair = (task_rollup_durations.c.task_name, task_rollup_durations.c.queue_name)
        query = (
            select(*pair, task_rollup_durations.c.bucket, func.sum(task_rollup_durations.c.count))
            .where(task_rollup_durations.c.period == _HOUR)
            .group_by(*pair, task_rollup_durations.c.bucket)
        )
        per_bound: dict[tuple[str, str], list[float]] = {}
        for name, queue, bucket, count in conn.execute(query):
            labels = (label_of(name, names), label_of(queue, queues))
            counted = per_bound.setdefault(labels, [0.0] * len(RUNTIME_BUCKETS))
            lower_edge_s = GAMMA ** (int(bucket) - 1) / 1000.0
            for index, bound in enumerate(RUNTIME_BUCKETS):
                if lower_edge_s < bound:
                    counted[index] += float(count or 0)
                    break
        runtimes: dict[tuple[str, str], list[float]] = {}
        for labels, (count, total) in totals.items():
            if not count:
                continue
            cumulative = list(
                itertools.accumulate(per_bound.get(labels, [0.0] * len(RUNTIME_BUCKETS)))
            )
            runtimes[labels] = [count, total, *cumulative]
        return runtimes

    @staticmethod
    def _counts(counts: dict[tuple[str, str, str], float]) -> Iterable[Metric]:
        finished = CounterMetricFamily(
            "jobpulse_task_runs",
            "Finished task runs in the task log, by task name, queue and final state.",
            labels=["name", "queue", "state"],
        )
        active = GaugeMetricFamily(
            "jobpulse_task_runs_active",
            "Task runs not finished yet, by task name, queue and state.",
            labels=["name", "queue", "state"],
        )
        for (name, queue, state), count in sorted(counts.items()):
            if state in TERMINAL_STATES:
                finished.add_metric([name, queue, state], count)
            elif state in ACTIVE_STATES:
                active.add_metric([name, queue, state], count)
        return finished, active

    @staticmethod
    def _histogram(runtimes: dict[tuple[str, str], list[float]]) -> Metric:
        histogram = HistogramMetricFamily(
            "jobpulse_task_runtime_seconds",
            "Run time of finished task runs, by task name and queue.",
            labels=["name", "queue"],
        )
        for (name, queue), (count, total, *cumulative) in sorted(runtimes.items()):
            buckets = [(str(b), v) for b, v in zip(RUNTIME_BUCKETS, cumulative, strict=True)]
            buckets.append(("+Inf", count))
            histogram.add_metric([name, queue], buckets, total)
        return histogram


class QueuesSource:
    name = "queues"
    tables = ("queue_sources", "queue_samples", "queue_latest")

    def collect(self, conn: Connection, context: ScrapeContext) -> Iterable[Metric]:
        rows = list(
            conn.execute(
                select(
                    queue_latest.c.queue,
                    queue_samples.c.depth,
                    queue_samples.c.oldest_age_s,
                    queue_samples.c.consumers,
                    queue_samples.c.in_progress,
                )
                .select_from(
                    queue_latest.join(
                        queue_samples, queue_samples.c.id == queue_latest.c.sample_id
                    ).join(queue_sources, queue_sources.c.id == queue_latest.c.source_id)
                )
                # A disabled source's last figures are stale: they are not current depth.
                .where(queue_samples.c.ok.is_(True), queue_sources.c.enabled.is_(True))
            )
        )
        # Capped by depth: the fullest queues keep their own series.
        depth_by_queue: dict[str, float] = defaultdict(float)
        for queue, depth, *_ in rows:
            depth_by_queue[str(queue)] += float(depth or 0)
        kept = kept_names(depth_by_queue, context.max_label_values)
        length = GaugeMetricFamily(
            "jobpulse_queue_length", "Messages waiting, per queue.", labels=["queue_name"]
        )
        oldest = GaugeMetricFamily(
            "jobpulse_queue_oldest_age_seconds",
            "Age of the oldest waiting message, per queue (when the broker tells).",
            labels=["queue_name"],
        )
        consumers = GaugeMetricFamily(
            "jobpulse_active_consumer_count",
            "Consumers attached, per queue.",
            labels=["queue_name"],
        )
        in_progress = GaugeMetricFamily(
            "jobpulse_queue_in_progress",
            "Messages being processed, per queue.",
            labels=["queue_name"],
        )
        totals: dict[str, list[float | None]] = {}
        for queue, depth, age, consumer_count, running in rows:
            label = label_of(queue, kept)
            current = totals.setdefault(label, [0.0, None, None, None])
            current[0] = (current[0] or 0) + float(depth or 0)
            if age is not None:
                current[1] = max(float(age), current[1] or 0.0)
            if consumer_count is not None:
                current[2] = (current[2] or 0) + float(consumer_count)
            if running is not None:
                current[3] = (current[3] or 0) + float(running)
        for label, (depth, age, consumer_count, running) in sorted(totals.items()):
            length.add_metric([label], depth or 0)
            if age is not None:
                oldest.add_metric([label], age)
            if consumer_count is not None:
                consumers.add_metric([label], consumer_count)
            if running is not None:
                in_progress.add_metric([label], running)
        yield from (length, oldest, consumers, in_progress)
        yield from self._collector_health(conn, context)

    @staticmethod
    def _collector_health(conn: Connection, context: ScrapeContext) -> Iterable[Metric]:
        states = {"ok": 0, "failing": 0, "disabled": 0}
        oldest_sample: float | None = None
        for enabled, error, last_sample in conn.execute(
            select(
                queue_sources.c.enabled, queue_sources.c.last_error, queue_sources.c.last_sample_at
            )
        ):
            state = "disabled" if not enabled else ("failing" if error else "ok")
            states[state] += 1
            if enabled and last_sample is not None:
                age = context.now.timestamp() - float(last_sample)
                oldest_sample = age if oldest_sample is None else max(oldest_sample, age)
        sources = GaugeMetricFamily(
            "jobpulse_collector_sources",
            "Queue sources by collector state (failing: the last probe returned an error).",
            labels=["state"],
        )
        for state, count in states.items():
            sources.add_metric([state], count)
        yield sources
        yield GaugeMetricFamily(
            "jobpulse_collector_oldest_sample_age_seconds",
            "Age of the stalest last sample among enabled queue sources.",
            value=max(oldest_sample or 0.0, 0.0),
        )


class WorkersSource:
    name = "workers"
    tables = ("workers",)

    def collect(self, conn: Connection, context: ScrapeContext) -> Iterable[Metric]:
        now = context.now.timestamp()
        counts: dict[tuple[str, str], int] = defaultdict(int)
        busy: dict[str, int] = defaultdict(int)
        rows = conn.execute(
            select(
                workers.c.library,
                workers.c.current_job,
                workers.c.heartbeat_interval_s,
                workers.c.last_seen_at,
            )
        )
        for library, current_job, interval, last_seen in rows:
            allowed = (
                float(interval) * WORKER_MISSED_BEATS if interval else WORKER_DEFAULT_SILENCE_S
            )
            up = now - float(last_seen) <= allowed
            label = str(library or "unknown")
            counts[(label, "up" if up else "down")] += 1
            if up and current_job:
                busy[label] += 1
        # Libraries form a small closed set; cap anyway, in case of odd SDK input.
        per_library: dict[str, float] = defaultdict(float)
        for (library, _state), count in counts.items():
            per_library[library] += count
        kept = kept_names(per_library, MAX_LIBRARIES)
        workers_metric = GaugeMetricFamily(
            "jobpulse_workers", "Known workers by library and state.", labels=["library", "state"]
        )
        merged: dict[tuple[str, str], int] = defaultdict(int)
        for (library, state), count in counts.items():
            merged[(label_of(library, kept), state)] += count
        for (library, state), count in sorted(merged.items()):
            workers_metric.add_metric([library, state], count)
        yield workers_metric
        busy_merged: dict[str, int] = defaultdict(int)
        for library, count in busy.items():
            busy_merged[label_of(library, kept)] += count
        active = GaugeMetricFamily(
            "jobpulse_worker_tasks_active",
            "Workers up and busy with a job, by library.",
            labels=["library"],
        )
        for library, count in sorted(busy_merged.items()):
            active.add_metric([library], count)
        yield active


class AlertsSource:
    name = "alerts"
    tables = ("alert_outbox", "incidents")

    def collect(self, conn: Connection, context: ScrapeContext) -> Iterable[Metric]:
        outbox = GaugeMetricFamily(
            "jobpulse_outbox_notices", "Notices in the outbox by status.", labels=["status"]
        )
        for status, count in conn.execute(
            select(alert_outbox.c.status, func.count()).group_by(alert_outbox.c.status)
        ):
            outbox.add_metric([str(status)], float(count))
        yield outbox
        oldest = conn.execute(
            select(func.min(alert_outbox.c.created_at)).where(
                alert_outbox.c.status.in_(("pending", "sending"))
            )
        ).scalar()
        yield GaugeMetricFamily(
            "jobpulse_outbox_oldest_pending_age_seconds",
            "Age of the oldest notice not delivered yet (0 when none wait).",
            value=max(0.0, context.now.timestamp() - float(oldest)) if oldest is not None else 0.0,
        )
        open_incidents = GaugeMetricFamily(
            "jobpulse_incidents", "Incidents by status.", labels=["status"]
        )
        for status, count in conn.execute(
            select(incidents.c.status, func.count()).group_by(incidents.c.status)
        ):
            open_incidents.add_metric([str(status)], float(count))
        yield open_incidents


for _source in (TasksSource(), QueuesSource(), WorkersSource(), AlertsSource()):
    register_source(_source)
