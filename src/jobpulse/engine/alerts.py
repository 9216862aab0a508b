"""The alert loop (leader only): evaluates rules and writes incidents with their notices."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import Engine

from jobpulse.engine.alert_settings import AlertSettings
from jobpulse.engine.leader import LeaderLock
from jobpulse.engine.loop import PeriodicLoop
from jobpulse.engine.notifier import Notifier
from jobpulse.engine.probes import ProbePoller
from jobpulse.store.alert_tick import (
    TickRequest,
    TickResult,
    gather_facts,
    tick_handler,
    utc_now,
)
from jobpulse.store.alerts_retention import AlertPruneResult, alert_pruner
from jobpulse.store.outbox import RetryPolicy
from jobpulse.store.retention import Pruner
from jobpulse.store.writer import GroupCommitWriter

log = logging.getLogger(__name__)


class AlertLoop:
    """Runs `tick()` every interval while this node leads; followers only retry the lock."""

    def __init__(
        self,
        engine: Engine,
        writer: GroupCommitWriter,
        leader: LeaderLock,
        base_url: str,
        interval: float,
        leader_retry: float,
        clock: Callable[[], datetime] = utc_now,
        on_result: Callable[[TickResult], None] | None = None,
    ) -> None:
        self._engine = engine
        self._writer = writer
        self.leader = leader
        self._base_url = base_url
        self.clock = clock
        self._on_result = on_result
        self.is_leader = False
        self.loop = PeriodicLoop("jobpulse-alerts", min(interval, leader_retry), self._step)

    def start(self) -> None:
        self.loop.start()

    def stop(self) -> None:
        self.loop.stop()
        self.leader.release()
        self.is_leader = False

    def tick(self) -> TickResult:
        """One pass over every rule (tests call this directly, with their own clock)."""
        now = self.clock()
        with self._engine.connect() as conn:
            facts = gather_facts(conn, now)
        request = TickRequest(now, self._base_url, facts)
        result: TickResult = self._writer.run_sync(tick_handler, request)
        if self._on_result is not None and (result.opened or result.resolved or result.repeated):
            self._on_result(result)
        return result

    def _step(self) -> None:
        self.is_leader = self.leader.holds()
        if self.is_leader:
            self.tick()


class Alerting:
    """The alerting engine of one node: alert loop, notifier and probe poller."""

    def __init__(
        self,
        engine: Engine,
        writer: GroupCommitWriter,
        base_url: str,
        settings: AlertSettings | None = None,
        processes: int = 1,
    ) -> None:
        self.settings = settings or AlertSettings()
        s = self.settings
        self.loop = AlertLoop(
            engine,
            writer,
            LeaderLock(engine),
            base_url,
            s.interval_seconds,
            s.leader_retry_seconds,
        )
        policy = RetryPolicy(
            s.max_attempts,
            timedelta(seconds=s.retry_base_seconds),
            timedelta(seconds=s.retry_cap_seconds),
        )
        self.notifier = Notifier(
            writer,
            policy,
            interval=s.notifier_interval_seconds,
            batch=s.notifier_batch,
            lease=timedelta(seconds=s.lease_seconds),
            # With several processes on one SQLite file a claim may be another's, not stale.
            single_node=not is_postgresql(engine) and processes == 1,
        )
        self.probes = ProbePoller(writer, LeaderLock(engine, "probes"), s.leader_retry_seconds)
        self.pruner = alert_pruner(writer, s.retention_days, s.prune_interval_seconds)

    @property
    def services(self) -> list[AlertLoop | Notifier | ProbePoller | Pruner[AlertPruneResult]]:
        found: list[AlertLoop | Notifier | ProbePoller | Pruner[AlertPruneResult]] = [
            self.loop,
            self.pruner,
        ]
        if self.settings.notifier_enabled:
            found.append(self.notifier)
        if self.settings.probes_enabled:
            found.append(self.probes)
        return found


def is_postgresql(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"
