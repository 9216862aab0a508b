"""One running jobpulse node: its settings, database engine, writer and background loops."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import Engine

from jobpulse.config import Settings
from jobpulse.engine.evaluator import Evaluator
from jobpulse.store.db import make_engine, migrate
from jobpulse.store.pings import PingIngest
from jobpulse.store.projects import ensure_project
from jobpulse.store.writer import GroupCommitWriter

log = logging.getLogger(__name__)


class Runtime:
    def __init__(self, settings: Settings, engine: Engine | None = None) -> None:
        self.settings = settings
        self.engine = engine or make_engine(settings.database_url)
        self.writer = GroupCommitWriter(self.engine, settings.writer_batch_max)
        self.cron_tolerance = timedelta(seconds=settings.cron_tolerance_seconds)
        self.ping_ingest = PingIngest(self.cron_tolerance)
        self.evaluator = Evaluator(self.writer, settings.evaluator_interval_seconds)
        self.started = False

    def start(self, *, run_loops: bool = True) -> None:
        migrate(self.engine)
        with self.engine.begin() as conn:
            ensure_project(conn)
        self.writer.start()
        if run_loops:
            self.evaluator.start()
        self.started = True

    def stop(self) -> None:
        self.evaluator.stop()
        self.writer.stop()
        self.started = False
