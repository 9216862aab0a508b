"""The notice outbox: rows written with the incident change they announce, then claimed,
delivered and marked by the notifier.

A row leaves `pending` only when delivered (`delivered`), given up (`failed`), or never meant
to be sent (`suppressed` by a silence, `unrouted` for lack of a channel). A claim is a lease
(`sending` until `claimed_until`): if the node dies mid-send, the row is claimed again after
the lease and sent with the same notice id, which receivers may dedupe on.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, RowMapping, and_, exists, insert, or_, select, update

from jobpulse.domain.incidents import (
    Labels,
    Route,
    Silence,
    gives_up,
    retry_delay,
    route_channels,
    silenced_by,
)
from jobpulse.store.alerts_tables import (
    alert_channels,
    alert_deliveries,
    alert_outbox,
    alert_routes,
    alert_silences,
)


@dataclass(frozen=True)
class Routing:
    """A project's channels, routes and silences, loaded once per tick."""

    channel_ids: tuple[int, ...]
    routes: tuple[Route, ...]
    silences: tuple[Silence, ...]


def load_routing(conn: Connection, project_id: int, now: datetime) -> Routing:
    channel_ids = tuple(
        conn.execute(
            select(alert_channels.c.id)
            .where(alert_channels.c.project_id == project_id, alert_channels.c.enabled.is_(True))
            .order_by(alert_channels.c.id)
        ).scalars()
    )
    routes = tuple(
        Route(
            id=row.id,
            channel_ids=tuple(row.channel_ids),
            severities=frozenset(row.severities),
            matchers=row.matchers,
            is_default=row.is_default,
        )
        for row in conn.execute(
            select(alert_routes)
            .where(alert_routes.c.project_id == project_id)
            .order_by(alert_routes.c.id)
        )
    )
    silences = tuple(
        Silence(row.id, row.matchers, row.starts_at, row.ends_at)
        for row in conn.execute(
            select(alert_silences).where(
                alert_silences.c.project_id == project_id, alert_silences.c.ends_at > now
            )
        )
    )
    return Routing(channel_ids, routes, silences)


def labels_of(incident: RowMapping) -> Labels:
    stored = incident["labels"] or {}
    return Labels(stored.get("values", {}), frozenset(stored.get("tags", ())))


def notice_payload(incident: RowMapping, kind: str, base_url: str) -> dict[str, Any]:
    """The fields of a notify.base.Notice, as JSON (the id is set per outbox row)."""
    labels = labels_of(incident)
    title = (incident["summary"] or incident["subject_label"]).splitlines()[0]
    return {
        "kind": kind,
        "severity": incident["severity"],
        "title": title,
        "subject": incident["subject_label"],
        "since": incident["started_at"].isoformat(),
        "summary": incident["summary"],
        "url": f"{base_url}/incidents/{incident['id']}",
        "dedup_key": f"jobpulse-{incident['project_id']}-{incident['rule_id']}-"
        f"{incident['subject_key']}",
        "labels": dict(labels.values),
    }


def enqueue_notice(
    conn: Connection,
    incident: RowMapping,
    kind: str,
    routing: Routing,
    now: datetime,
    base_url: str,
) -> list[str]:
    """Write the outbox rows announcing `incident` (one per routed channel); their statuses."""
    labels = labels_of(incident)
    channels = route_channels(routing.routes, labels, routing.channel_ids)
    silence_id = silenced_by(routing.silences, labels, now)
    status = "pending" if silence_id is None else "suppressed"
    payload = notice_payload(incident, kind, base_url)
    targets: list[int | None] = list(channels) or [None]
    rows = [
        {
            "project_id": incident["project_id"],
            "incident_id": incident["id"],
            "channel_id": channel_id,
            "notice_id": uuid.uuid4().hex,
            "kind": kind,
            "payload": payload,
            "status": status if channel_id is not None else "unrouted",
            "silence_id": silence_id,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for channel_id in targets
    ]
    conn.execute(insert(alert_outbox), rows)
    return [row["status"] for row in rows]


# --- the notifier's side ------------------------------------------------------------------


@dataclass(frozen=True)
class Claimed:
    outbox_id: int
    notice_id: str
    payload: dict[str, Any]
    attempts: int  # including this one
    channel_kind: str | None
    channel_config: dict[str, Any] | None
    claimed_until: datetime


def claim_due(conn: Connection, now: datetime, limit: int, lease: timedelta) -> list[Claimed]:
    """Lease up to `limit` due rows (pending, or sending with an expired lease)."""
    due = or_(
        and_(alert_outbox.c.status == "pending", alert_outbox.c.next_attempt_at <= now),
        and_(alert_outbox.c.status == "sending", alert_outbox.c.claimed_until <= now),
    )
    # One incident's notices reach a channel in order: a "resolved" never overtakes its
    # "firing" (PagerDuty would be left with an open incident otherwise).
    earlier = alert_outbox.alias("earlier")
    waits_for_earlier = exists().where(
        earlier.c.incident_id == alert_outbox.c.incident_id,
        earlier.c.channel_id == alert_outbox.c.channel_id,
        earlier.c.id < alert_outbox.c.id,
        earlier.c.status.in_(("pending", "sending")),
    )
    query = (
        select(alert_outbox).where(due, ~waits_for_earlier).order_by(alert_outbox.c.id).limit(limit)
    )
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = list(conn.execute(query).mappings())
    if not rows:
        return []
    until = now + lease
    channel_ids = {row["channel_id"] for row in rows if row["channel_id"] is not None}
    channels = {
        row.id: row
        for row in conn.execute(select(alert_channels).where(alert_channels.c.id.in_(channel_ids)))
    }
    claimed = []
    for row in rows:
        conn.execute(
            update(alert_outbox)
            .where(alert_outbox.c.id == row["id"])
            .values(status="sending", claimed_until=until, attempts=row["attempts"] + 1)
        )
        channel = channels.get(row["channel_id"])
        claimed.append(
            Claimed(
                outbox_id=row["id"],
                notice_id=row["notice_id"],
                payload=row["payload"],
                attempts=row["attempts"] + 1,
                channel_kind=channel.kind if channel is not None else None,
                channel_config=dict(channel.config) if channel is not None else None,
                claimed_until=until,
            )
        )
    return claimed


@dataclass(frozen=True)
class Outcome:
    """What happened to one claimed row's send."""

    claimed: Claimed
    at: datetime
    duration_ms: float
    error: str | None = None  # None: delivered
    retryable: bool = True


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    base: timedelta
    cap: timedelta


def record_outcome(conn: Connection, argument: tuple[Outcome, RetryPolicy]) -> str:
    """Mark a claimed row delivered, due again later, or failed; log the attempt.

    Compare and set: only the claim that is still current may mark the row, so a node that
    outlived its lease cannot overwrite another node's result. Returns the new status.
    """
    outcome, policy = argument
    claimed = outcome.claimed
    if outcome.error is None:
        values: dict[str, Any] = {"status": "delivered", "delivered_at": outcome.at}
    elif gives_up(claimed.attempts, policy.max_attempts, outcome.retryable):
        values = {"status": "failed", "last_error": outcome.error}
    else:
        delay = retry_delay(claimed.attempts, policy.base, policy.cap)
        values = {
            "status": "pending",
            "last_error": outcome.error,
            "next_attempt_at": outcome.at + delay,
        }
    result = conn.execute(
        update(alert_outbox)
        .where(
            alert_outbox.c.id == claimed.outbox_id,
            alert_outbox.c.status == "sending",
            alert_outbox.c.attempts == claimed.attempts,
        )
        .values(claimed_until=None, **values)
    )
    conn.execute(
        insert(alert_deliveries).values(
            outbox_id=claimed.outbox_id,
            attempt=claimed.attempts,
            at=outcome.at,
            ok=outcome.error is None,
            error=outcome.error,
            duration_ms=outcome.duration_ms,
        )
    )
    return str(values["status"]) if result.rowcount else "stale"


def release_claims(conn: Connection, now: datetime) -> int:
    """Make every leased row due now: for a single node (SQLite) starting up, any lease is
    from a process that died, so waiting for it to expire would only delay the notice."""
    result = conn.execute(
        update(alert_outbox).where(alert_outbox.c.status == "sending").values(claimed_until=now)
    )
    return int(result.rowcount)


def notices_of(conn: Connection, incident_id: int) -> Sequence[RowMapping]:
    query = (
        select(alert_outbox)
        .where(alert_outbox.c.incident_id == incident_id)
        .order_by(alert_outbox.c.id)
    )
    return list(conn.execute(query).mappings())
