"""Alert history retention: old resolved incidents go with their notices and delivery log;
open incidents, recent ones and notices still being sent stay."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, insert, select

from jobpulse.runtime import Runtime
from jobpulse.store.alerts_retention import prune_alerts
from jobpulse.store.alerts_tables import alert_deliveries, alert_outbox, incidents
from jobpulse.store.projects import ensure_project

NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)
OLD = NOW - timedelta(days=120)
RECENT = NOW - timedelta(days=10)


def _incident(conn: Connection, project_id: int, status: str, resolved_at: Any) -> int:
    return int(
        conn.execute(
            insert(incidents).values(
                project_id=project_id,
                rule_name="r",
                subject_key=f"check:{uuid.uuid4()}",
                subject_label="c",
                severity="critical",
                status=status,
                summary="s",
                labels={},
                started_at=OLD,
                opened_at=OLD,
                resolved_at=resolved_at,
                last_notified_at=OLD,
            )
        ).inserted_primary_key[0]
    )


def _notice(conn: Connection, project_id: int, incident_id: int | None, status: str) -> int:
    outbox_id = int(
        conn.execute(
            insert(alert_outbox).values(
                project_id=project_id,
                incident_id=incident_id,
                notice_id=uuid.uuid4().hex,
                kind="firing",
                payload={},
                status=status,
                attempts=1,
                next_attempt_at=OLD,
                created_at=OLD,
            )
        ).inserted_primary_key[0]
    )
    conn.execute(
        insert(alert_deliveries).values(
            outbox_id=outbox_id, attempt=1, at=OLD, ok=status == "delivered", duration_ms=1.0
        )
    )
    return outbox_id


def _count(conn: Connection, table: Any) -> int:
    return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_old_resolved_incidents_go_with_their_notices(runtime: Runtime) -> None:
    with runtime.engine.begin() as conn:
        project_id = ensure_project(conn)
        old_resolved = _incident(conn, project_id, "resolved", OLD)
        _notice(conn, project_id, old_resolved, "delivered")
        _notice(conn, project_id, old_resolved, "failed")
        recent = _incident(conn, project_id, "resolved", RECENT)
        _notice(conn, project_id, recent, "delivered")
        still_open = _incident(conn, project_id, "open", None)
        _notice(conn, project_id, still_open, "delivered")
        still_sending = _incident(conn, project_id, "resolved", OLD)
        _notice(conn, project_id, still_sending, "pending")
        _notice(conn, project_id, None, "delivered")  # a channel test, long ago
        _notice(conn, project_id, None, "sending")

    result = prune_alerts(runtime.writer, NOW - timedelta(days=90))

    assert (result.incidents, result.notices) == (1, 1)
    with runtime.engine.connect() as conn:
        kept = set(conn.execute(select(incidents.c.id)).scalars())
        assert kept == {recent, still_open, still_sending}
        assert _count(conn, alert_outbox) == 4
        assert _count(conn, alert_deliveries) == 4  # the delivery log went with its notices
    assert prune_alerts(runtime.writer, NOW - timedelta(days=90)).total == 0
