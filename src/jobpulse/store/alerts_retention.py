"""Alert history retention: incidents resolved long ago go, with their notices and delivery
attempts (ON DELETE CASCADE), and so do finished notices not tied to an incident (channel
tests). Open incidents and notices still being sent are never touched."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, and_, exists

from jobpulse.store.alerts_tables import alert_outbox, incidents
from jobpulse.store.retention import Pruner, delete_oldest, prune_in_steps
from jobpulse.store.writer import GroupCommitWriter

UNFINISHED = ("pending", "sending")


@dataclass
class AlertPruneResult:
    incidents: int = 0
    notices: int = 0

    @property
    def total(self) -> int:
        return self.incidents + self.notices

    def __iadd__(self, other: AlertPruneResult) -> AlertPruneResult:
        self.incidents += other.incidents
        self.notices += other.notices
        return self


def prune_alerts_step(conn: Connection, before: datetime) -> AlertPruneResult:
    unfinished = exists().where(
        alert_outbox.c.incident_id == incidents.c.id, alert_outbox.c.status.in_(UNFINISHED)
    )
    gone = delete_oldest(
        conn,
        incidents,
        incidents.c.id,
        and_(incidents.c.status == "resolved", incidents.c.resolved_at < before, ~unfinished),
    )
    notices = delete_oldest(
        conn,
        alert_outbox,
        alert_outbox.c.id,
        and_(
            alert_outbox.c.incident_id.is_(None),
            alert_outbox.c.status.not_in(UNFINISHED),
            alert_outbox.c.created_at < before,
        ),
    )
    return AlertPruneResult(gone, notices)


def prune_alerts(writer: GroupCommitWriter, before: datetime) -> AlertPruneResult:
    return prune_in_steps(writer, prune_alerts_step, before, AlertPruneResult())


def alert_pruner(
    writer: GroupCommitWriter,
    days: float,
    interval_seconds: float,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Pruner[AlertPruneResult]:
    def run() -> AlertPruneResult:
        return prune_alerts(writer, clock() - timedelta(days=days))

    return Pruner("jobpulse-alert-pruner", interval_seconds, run)
