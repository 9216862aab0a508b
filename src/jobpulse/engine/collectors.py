"""The collectors runner: samples each enabled source on its interval, in worker threads.

A sweep that outlives its source's timeout is recorded at once as a failed sample ("timed
out"), and the source is not sampled again until that sweep returns, so a hung broker holds
one thread, never the loop, the API or the writer. Results go to the writer without waiting
for the commit. The runner also folds old samples (downsampling) and forgets long-gone
workers, in bounded steps.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine

from jobpulse.collectors import Collector, SourceConfig, make_collector
from jobpulse.collectors.base import describe_error
from jobpulse.domain.queues import SourceSample
from jobpulse.engine.leader import LeaderLock
from jobpulse.engine.loop import PeriodicLoop
from jobpulse.store.queue_retention import downsample_queue_samples
from jobpulse.store.queue_sources import config_of, enabled_sources, upsert_source
from jobpulse.store.queues import RecordedSweep, forget_gone_workers, record_sweep
from jobpulse.store.rows import each
from jobpulse.store.writer import GroupCommitWriter

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
WORKER_RETENTION = timedelta(days=1)
MAINTENANCE_EVERY = timedelta(minutes=5)


def utc_now() -> datetime:
    return datetime.now(UTC)


def _maintain(conn: Connection, now: datetime) -> int:
    folded = downsample_queue_samples(conn, now)
    return folded + forget_gone_workers(conn, now, WORKER_RETENTION)


maintain_queues = each(_maintain)


@dataclass
class _Source:
    source_id: int
    project_id: int
    config: SourceConfig
    collector: Collector
    next_due: datetime
    in_flight: Future[SourceSample] | None = None
    started_at: datetime | None = None
    timed_out: bool = False
    pending_writes: list[Future[Any]] = field(default_factory=list)


class CollectorsRunner:
    def __init__(
        self,
        engine: Engine,
        writer: GroupCommitWriter,
        *,
        tick_seconds: float = 0.5,
        threads: int = 8,
        clock: Clock = utc_now,
        sources_file: str | None = None,
        reload_every: timedelta = timedelta(seconds=5),
        collector_factory: Callable[[SourceConfig], Collector] = make_collector,
    ) -> None:
        self._engine = engine
        self._writer = writer
        self.clock = clock
        self._sources_file = sources_file
        self._reload_every = reload_every
        self._collector_factory = collector_factory
        # With several nodes on PostgreSQL, one samples (the others would only repeat it).
        self._leader = LeaderLock(engine, role="collectors")
        self.leading = False
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="jobpulse-collector")
        self._sources: dict[int, _Source] = {}
        self._loaded_at: datetime | None = None
        self._maintained_at: datetime | None = None
        self.loop = PeriodicLoop("jobpulse-collectors", tick_seconds, self.tick)

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        if self._sources_file:
            self.load_sources_file(self._sources_file)
        self.loop.start()

    def stop(self) -> None:
        self.loop.stop()
        self._leader.release()
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._drop_all()

    def load_sources_file(self, path: str) -> int:
        """Create or update the sources the YAML file declares (in the default project)."""
        from jobpulse.collectors.definitions import load_sources_file
        from jobpulse.store.projects import ensure_project

        specs = load_sources_file(path)
        with self._engine.begin() as conn:
            project_id = ensure_project(conn)
        now = self.clock()
        for spec in specs:
            self._writer.run_sync(upsert_source, (project_id, spec, now))
        log.info("loaded %d queue sources from %s", len(specs), path)
        return len(specs)

    # -- the loop -------------------------------------------------------------------------

    def tick(self) -> None:
        now = self.clock()
        if self._loaded_at is None or now - self._loaded_at >= self._reload_every:
            self.leading = self._leader.holds()
            if not self.leading:
                self._drop_all()
                self._loaded_at = now
                return
            self.reload(now)
        if not self.leading:
            return
        for source in list(self._sources.values()):
            self._advance(source, now)
        if self._maintained_at is None or now - self._maintained_at >= MAINTENANCE_EVERY:
            self._maintained_at = now
            self._writer.submit(maintain_queues, now).add_done_callback(_log_failure)

    def _drop_all(self) -> None:
        for source in self._sources.values():
            source.collector.close()
        self._sources.clear()

    def reload(self, now: datetime) -> None:
        with self._engine.connect() as conn:
            rows = enabled_sources(conn)
        wanted = {row["id"]: row for row in rows}
        for source_id in list(self._sources):
            current = self._sources[source_id]
            row = wanted.get(source_id)
            if row is None or config_of(row) != current.config:
                current.collector.close()
                del self._sources[source_id]
        for source_id, row in wanted.items():
            if source_id not in self._sources:
                config = config_of(row)
                self._sources[source_id] = _Source(
                    source_id, row["project_id"], config, self._collector(config), now
                )
        self._loaded_at = now

    def _collector(self, config: SourceConfig) -> Collector:
        try:
            return self._collector_factory(config)
        except ValueError as exc:
            return _Misconfigured(config, str(exc))

    def _advance(self, source: _Source, now: datetime) -> None:
        timeout = timedelta(seconds=source.config.timeout_seconds)
        if source.in_flight is not None:
            if source.in_flight.done():
                result = source.in_flight.result()
                if not source.timed_out:
                    self._record(source, result)
                source.in_flight, source.timed_out = None, False
            elif not source.timed_out and source.started_at and now - source.started_at > timeout:
                source.timed_out = True
                error = f"timed out after {timeout.total_seconds():g}s"
                self._record(source, SourceSample(taken_at=source.started_at, error=error))
            return
        if now >= source.next_due:
            source.started_at = now
            source.next_due = now + timedelta(seconds=source.config.interval_seconds)
            source.in_flight = self._pool.submit(source.collector.sample, now)

    def _record(self, source: _Source, sample: SourceSample) -> None:
        sweep = RecordedSweep(source.source_id, source.project_id, sample)
        future = self._writer.submit(record_sweep, sweep)
        future.add_done_callback(_log_failure)

    # -- for tests and the CLI ------------------------------------------------------------

    def sweep_now(self, timeout: float = 30.0) -> int:
        """Sample every enabled source once, now, and wait until the samples are stored."""
        now = self.clock()
        self.reload(now)
        futures = {}
        for source in self._sources.values():
            futures[source.source_id] = self._pool.submit(source.collector.sample, now)
        done, _ = wait(list(futures.values()), timeout)
        writes = []
        for source in self._sources.values():
            future = futures[source.source_id]
            sample = (
                future.result()
                if future in done
                else SourceSample(taken_at=now, error=f"timed out after {timeout:g}s")
            )
            sweep = RecordedSweep(source.source_id, source.project_id, sample)
            writes.append(self._writer.submit(record_sweep, sweep))
        for write in writes:
            write.result(timeout)
        return len(writes)


def _log_failure(future: Future[Any]) -> None:
    if future.exception() is not None:
        log.warning("storing a queue sample failed: %s", describe_error(future.exception()))


class _Misconfigured(Collector):
    """A source whose URL or library cannot be used: every sample fails with the reason."""

    library = "unknown"

    def __init__(self, config: SourceConfig, reason: str) -> None:
        super().__init__(config)
        self.reason = reason

    def read(self, now: datetime) -> tuple[list[Any], list[Any]]:
        raise ValueError(self.reason)
