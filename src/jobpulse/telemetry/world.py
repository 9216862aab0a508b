"""The monitored world as Prometheus metrics, read from the database at scrape time.

Names follow celery-exporter (`jobpulse_task_runs_total{name,queue,state}`, ...) so existing
Grafana boards adapt by a prefix. Every label value comes from a closed set (statuses,
reasons) or is capped: only the `max_label_values` busiest task or queue names get their own
series, the rest are summed under `other`. Job ids and free text never become labels.

Each area contributes a `WorldSource`; a source whose tables do not exist yet is skipped,
so this module works on a database with only the checks schema.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol

from prometheus_client import Counter
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Connection, func, inspect, select

from jobpulse.domain.checks import DownReason, Status
from jobpulse.store.tables import checks

if TYPE_CHECKING:
    from jobpulse.runtime import Runtime

log = logging.getLogger(__name__)

OTHER = "other"
DEFAULT_MAX_LABEL_VALUES = 50


@dataclass(frozen=True)
class ScrapeContext:
    now: datetime
    max_label_values: int


class WorldSource(Protocol):
    """Metrics of one area (checks, tasks, queues, workers, alerts) read in one transaction."""

    name: str
    tables: tuple[str, ...]

    def collect(self, conn: Connection, context: ScrapeContext) -> Iterable[Metric]: ...


def kept_names(counts: dict[str, float], limit: int) -> set[str]:
    """The `limit` names with the largest counts: those get their own series."""
    ordered = sorted(counts, key=lambda name: (-counts[name], name))
    return set(ordered[:limit])


def label_of(value: object, kept: set[str]) -> str:
    text = "" if value is None else str(value)
    return text if text in kept else OTHER


class ChecksSource:
    name = "checks"
    tables = ("checks",)

    def collect(self, conn: Connection, context: ScrapeContext) -> Iterable[Metric]:
        by_status = GaugeMetricFamily("jobpulse_checks", "Checks by status.", labels=["status"])
        counts = {status.value: 0 for status in Status}
        query = select(checks.c.status, func.count()).group_by(checks.c.status)
        for status, count in conn.execute(query):
            if status in counts:
                counts[status] = int(count)
        for status, count in counts.items():
            by_status.add_metric([status], count)
        yield by_status

        down = GaugeMetricFamily(
            "jobpulse_checks_down", "Checks that are down, by reason.", labels=["reason"]
        )
        reasons = {reason.value: 0 for reason in DownReason}
        query = (
            select(checks.c.down_reason, func.count())
            .where(checks.c.status == Status.DOWN.value)
            .group_by(checks.c.down_reason)
        )
        for reason, count in conn.execute(query):
            if reason in reasons:
                reasons[reason] = int(count)
        for reason, count in reasons.items():
            down.add_metric([reason], count)
        yield down

        deadline = conn.execute(select(func.min(checks.c.next_deadline_at))).scalar()
        lag = 0.0
        if isinstance(deadline, datetime):
            lag = max(0.0, (context.now - deadline).total_seconds())
        yield GaugeMetricFamily(
            "jobpulse_evaluator_lag_seconds",
            "How long the most overdue check deadline has waited for the evaluator.",
            value=lag,
        )


# Areas append their sources here (one line in their own module, at import time).
WORLD_SOURCES: list[WorldSource] = [ChecksSource()]


def register_source(source: WorldSource) -> None:
    if all(existing.name != source.name for existing in WORLD_SOURCES):
        WORLD_SOURCES.append(source)


class WorldCollector(Collector):
    """A prometheus-client collector that queries the database on every scrape."""

    def __init__(
        self,
        runtime: Runtime,
        errors: Counter,
        sources: Sequence[WorldSource] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._runtime = runtime
        self._errors = errors
        self._sources = sources
        self._clock = clock
        self._present_tables: set[str] = set()

    def describe(self) -> Iterable[Metric]:
        return []  # dynamic: never read the database at registration time

    def collect(self) -> Iterable[Metric]:
        started = time.perf_counter()
        context = ScrapeContext(
            self._clock(),
            getattr(self._runtime.settings, "metrics_max_label_values", DEFAULT_MAX_LABEL_VALUES),
        )
        metrics: list[Metric] = []
        with self._runtime.engine.connect() as conn:
            for source in self._sources if self._sources is not None else WORLD_SOURCES:
                if not self._has_tables(conn, source.tables):
                    continue
                try:
                    metrics.extend(source.collect(conn, context))
                except Exception:
                    self._errors.labels(source=source.name).inc()
                    log.warning("metrics source %s failed", source.name, exc_info=True)
                    conn.rollback()
        metrics.append(
            GaugeMetricFamily(
                "jobpulse_metrics_scrape_duration_seconds",
                "Time spent reading the monitored world from the database for this scrape.",
                value=time.perf_counter() - started,
            )
        )
        return metrics

    def _has_tables(self, conn: Connection, tables: Iterable[str]) -> bool:
        missing = [name for name in tables if name not in self._present_tables]
        if not missing:
            return True
        inspector = inspect(conn)
        for name in missing:
            if not inspector.has_table(name):
                return False
            self._present_tables.add(name)
        return True
