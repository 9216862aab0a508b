"""jobpulse's own health metrics, in a registry per node (never the global default one).

The HTTP middleware, the group-commit writer and the evaluator report here as things
happen; the monitored world is read from the database at scrape time (see world.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.registry import Collector

from jobpulse import __version__

if TYPE_CHECKING:
    from jobpulse.runtime import Runtime

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
BATCH_SIZE_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000)
COMMIT_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# `*_created` series double the output and no dashboard reads them.
disable_created_metrics()


class NodeMetrics:
    """The metrics of one running node; `render()` gives the Prometheus text format."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        registry = self.registry
        self.http_requests = Counter(
            "jobpulse_http_requests",
            "HTTP requests answered, by route template, method and status code.",
            ["route", "method", "status"],
            registry=registry,
        )
        self._request_children: dict[tuple[str, str, int], tuple[Any, Any]] = {}
        self.http_latency = Histogram(
            "jobpulse_http_request_duration_seconds",
            "Time to answer an HTTP request, by route template and method.",
            ["route", "method"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.ingest_batch_size = Histogram(
            "jobpulse_ingest_batch_size",
            "Jobs committed together by the group-commit writer.",
            buckets=BATCH_SIZE_BUCKETS,
            registry=registry,
        )
        self.ingest_commit_seconds = Histogram(
            "jobpulse_ingest_commit_duration_seconds",
            "Time the group-commit writer took to run and commit one batch.",
            buckets=COMMIT_BUCKETS,
            registry=registry,
        )
        self.ingest_failed_batches = Counter(
            "jobpulse_ingest_failed_batches",
            "Batches that failed as a whole and were retried job by job.",
            registry=registry,
        )
        self.evaluator_tick_seconds = Histogram(
            "jobpulse_evaluator_tick_duration_seconds",
            "Time one evaluator pass over due checks took.",
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.evaluator_errors = Counter(
            "jobpulse_evaluator_errors",
            "Evaluator passes that failed.",
            registry=registry,
        )
        self.scrape_errors = Counter(
            "jobpulse_metrics_scrape_errors",
            "World-metric sources that failed during a scrape, by source.",
            ["source"],
            registry=registry,
        )
        build = Gauge(
            "jobpulse_build_info",
            "Always 1; the running version as a label.",
            ["version"],
            registry=registry,
        )
        build.labels(version=__version__).set(1)

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        # Labelled children are looked up once per label set: `labels()` on every request
        # cost as much as the rest of the metrics work. Routes are templates, so few keys.
        key = (route, method, status)
        children = self._request_children.get(key)
        if children is None:
            children = self._request_children[key] = (
                self.http_requests.labels(route=route, method=method, status=str(status)),
                self.http_latency.labels(route=route, method=method),
            )
        children[0].inc()
        children[1].observe(seconds)

    def observe_commit(self, batch_size: int, seconds: float, failed: bool) -> None:
        if failed:
            self.ingest_failed_batches.inc()
            return
        self.ingest_batch_size.observe(batch_size)
        self.ingest_commit_seconds.observe(seconds)

    def observe_tick(self, seconds: float, error: bool) -> None:
        if error:
            self.evaluator_errors.inc()
        else:
            self.evaluator_tick_seconds.observe(seconds)

    def add_collector(self, collector: Collector) -> None:
        self.registry.register(collector)

    def render(self) -> bytes:
        return generate_latest(self.registry)


def metrics_for(runtime: Runtime) -> NodeMetrics:
    """New metrics subscribed to the node's writer and evaluator, with the world metrics."""
    from jobpulse.telemetry import world_sources  # noqa: F401  (registers the areas' sources)
    from jobpulse.telemetry.world import WorldCollector

    metrics = NodeMetrics()
    runtime.writer.observers.append(metrics.observe_commit)
    tick_observers: list[Callable[[float, bool], None]] | None = getattr(
        runtime.evaluator, "tick_observers", None
    )
    if tick_observers is not None:
        tick_observers.append(metrics.observe_tick)
    metrics.add_collector(WorldCollector(runtime, metrics.scrape_errors))
    return metrics
