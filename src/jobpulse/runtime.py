"""One running jobpulse node: its settings, database engine, writer and background loops."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Protocol

from sqlalchemy import Engine

from jobpulse.config import Settings
from jobpulse.engine.alerts import Alerting
from jobpulse.engine.collectors import CollectorsRunner
from jobpulse.engine.evaluator import Evaluator
from jobpulse.store.db import make_engine, migrate
from jobpulse.store.pg_statistics import StatisticsKeeper
from jobpulse.store.ping_retention import ping_pruner
from jobpulse.store.pings import PingIngest
from jobpulse.store.projects import ensure_project
from jobpulse.store.writer import GroupCommitWriter
from jobpulse.tasks_config import TaskLog
from jobpulse.telemetry.metrics import metrics_for

log = logging.getLogger(__name__)


class BackgroundService(Protocol):
    """A loop the node runs beside the API (collectors, notifier, pruner, ...)."""

    def start(self) -> None: ...

    def stop(self) -> None: ...


class Runtime:
    def __init__(self, settings: Settings, engine: Engine | None = None) -> None:
        self.settings = settings
        self.engine = engine or make_engine(settings.database_url)
        self.writer = GroupCommitWriter(self.engine, settings.writer_batch_max)
        self.cron_tolerance = timedelta(seconds=settings.cron_tolerance_seconds)
        self.ping_ingest = PingIngest(self.cron_tolerance)
        self.evaluator = Evaluator(self.writer, settings.evaluator_interval_seconds)
        # Areas add their loops here; they start after the writer and stop before it.
        self.ping_pruner = ping_pruner(
            self.writer, settings.pings_per_check, settings.pings_prune_interval_seconds
        )
        self.services: list[BackgroundService] = [self.evaluator, self.ping_pruner]
        self.alerting = Alerting(
            self.engine, self.writer, settings.base_url, processes=settings.workers
        )
        self.services.extend(self.alerting.services)
        self.collectors = CollectorsRunner(
            self.engine, self.writer, sources_file=settings.sources_file or None
        )
        self.services.append(self.collectors)
        self.tasks = TaskLog(self.writer)
        self.services.append(self.tasks.pruner)
        if self.engine.dialect.name == "postgresql":
            self.services.append(StatisticsKeeper(self.engine))
        self.metrics = metrics_for(self)  # own registry per node; world metrics read at scrape
        self.started = False

    def start(self, *, run_loops: bool = True) -> None:
        migrate(self.engine)
        with self.engine.begin() as conn:
            ensure_project(conn)
        self.writer.start()
        if run_loops:
            for service in self.services:
                service.start()
        self.started = True

    def stop(self) -> None:
        for service in reversed(self.services):
            service.stop()
        self.writer.stop()
        self.started = False
