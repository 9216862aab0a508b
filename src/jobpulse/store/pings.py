"""Ping ingest and deadline evaluation: the two writes that move checks through their states.

Both run inside a group-commit batch. Rows touched are locked on PostgreSQL (FOR UPDATE,
in id order), so several nodes can ingest and evaluate at once without lost updates.
"""

from __future__ import annotations

import secrets
import uuid as uuid_module
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, RowMapping, and_, insert, select

from jobpulse.domain.checks import CheckState, Flip, PingKind, Transition, apply_ping, evaluate
from jobpulse.domain.schedule import Schedule
from jobpulse.store.bulk import BulkInsert, BulkUpdate
from jobpulse.store.rows import schedule_of, schedule_values, state_of, state_values
from jobpulse.store.tables import checks, flips, pings, projects

DEFAULT_SCHEDULE = Schedule()
_STATE_COLUMNS = (
    "status",
    "down_reason",
    "last_ping_at",
    "started_at",
    "start_rid",
    "next_expected_at",
    "next_deadline_at",
)
# What ingest and evaluation read of a check: not its name, tags or description.
_MOVING_COLUMNS = [
    checks.c[name]
    for name in (
        "id",
        "uuid",
        "slug",
        "kind",
        "period_s",
        "grace_s",
        "cron",
        "tz",
        "max_runtime_s",
        "last_duration_ms",
        *_STATE_COLUMNS,
    )
]


@dataclass(frozen=True)
class PingIn:
    kind: PingKind
    at: datetime
    method: str
    check_uuid: str | None = None
    ping_key: str | None = None
    slug: str | None = None
    create: bool = False
    exit_status: int | None = None
    remote_addr: str | None = None
    user_agent: str | None = None
    body: str | None = None
    body_truncated: bool = False
    rid: str | None = None


@dataclass
class _Tracked:
    """A check row being changed by a batch: its schedule and its state as pings apply."""

    row: RowMapping
    schedule: Schedule
    state: CheckState
    new_pings: int = 0
    last_duration_ms: float | None = None
    starts_by_rid: dict[str, datetime] = field(default_factory=dict)


def _locked(conn: Connection, query: Any) -> Any:
    return query.with_for_update() if conn.dialect.name == "postgresql" else query


def _load_by_uuid(conn: Connection, uuids: set[str]) -> dict[str, RowMapping]:
    if not uuids:
        return {}
    query = select(*_MOVING_COLUMNS).where(checks.c.uuid.in_(sorted(uuids))).order_by(checks.c.id)
    return {row["uuid"]: row for row in conn.execute(_locked(conn, query)).mappings()}


def _load_by_slug(
    conn: Connection, wanted: set[tuple[str, str]]
) -> dict[tuple[str, str], RowMapping]:
    if not wanted:
        return {}
    keys = sorted({key for key, _ in wanted})
    slugs = sorted({slug for _, slug in wanted})
    query = (
        select(*_MOVING_COLUMNS, projects.c.ping_key)
        .join(projects, projects.c.id == checks.c.project_id)
        .where(projects.c.ping_key.in_(keys), checks.c.slug.in_(slugs))
        .order_by(checks.c.id)
    )
    found = {}
    for row in conn.execute(_locked(conn, query)).mappings():
        if (row["ping_key"], row["slug"]) in wanted:
            found[(row["ping_key"], row["slug"])] = row
    return found


def _create_by_slug(conn: Connection, ping_key: str, slug: str, at: datetime) -> RowMapping | None:
    project_id = conn.execute(
        select(projects.c.id).where(projects.c.ping_key == ping_key)
    ).scalar_one_or_none()
    if project_id is None:
        return None
    values = {
        "uuid": str(uuid_module.uuid4()),
        "project_id": project_id,
        "name": slug,
        "slug": slug,
        "tags": [],
        "description": "",
        **schedule_values(DEFAULT_SCHEDULE),
        **state_values(CheckState(), DEFAULT_SCHEDULE),
        "n_pings": 0,
        "created_at": at,
        "updated_at": at,
    }
    conn.execute(insert(checks).values(values))
    query = select(*_MOVING_COLUMNS).where(checks.c.uuid == values["uuid"])
    return conn.execute(query).mappings().one()


def _start_time(conn: Connection, tracked: _Tracked, ping: PingIn) -> datetime | None:
    """When the run this finish ping closes began: by rid when given, else the last start."""
    if ping.rid is None or ping.rid == tracked.state.start_rid:
        return tracked.state.started_at
    if ping.rid in tracked.starts_by_rid:
        return tracked.starts_by_rid[ping.rid]
    return conn.execute(
        select(pings.c.created_at)
        .where(
            pings.c.check_id == tracked.row["id"], pings.c.rid == ping.rid, pings.c.kind == "start"
        )
        .order_by(pings.c.id.desc())
        .limit(1)
    ).scalar_one_or_none()


class PingIngest:
    """Writer batch handler: records pings and moves their checks. Result per ping: found?"""

    def __init__(self, cron_tolerance: timedelta) -> None:
        self.cron_tolerance = cron_tolerance

    def __call__(self, conn: Connection, batch: Sequence[PingIn]) -> list[bool]:
        by_uuid = _load_by_uuid(conn, {p.check_uuid for p in batch if p.check_uuid})
        by_slug = _load_by_slug(
            conn, {(p.ping_key, p.slug) for p in batch if p.ping_key and p.slug}
        )
        tracked: dict[int, _Tracked] = {}
        ping_rows: list[dict[str, Any]] = []
        flip_rows: list[dict[str, Any]] = []
        results: list[bool] = []
        for ping in batch:
            row = self._resolve(conn, ping, by_uuid, by_slug)
            if row is None:
                results.append(False)
                continue
            item = tracked.get(row["id"])
            if item is None:
                item = tracked[row["id"]] = _Tracked(row, schedule_of(row), state_of(row))
            ping_rows.append(self._apply(conn, item, ping, flip_rows))
            results.append(True)
        _INSERT_PINGS(conn, ping_rows)
        _INSERT_FLIPS(conn, flip_rows)
        if tracked:
            _update_states(conn, tracked.values())
        return results

    @staticmethod
    def _resolve(
        conn: Connection,
        ping: PingIn,
        by_uuid: dict[str, RowMapping],
        by_slug: dict[tuple[str, str], RowMapping],
    ) -> RowMapping | None:
        if ping.check_uuid:
            return by_uuid.get(ping.check_uuid)
        assert ping.ping_key and ping.slug
        key = (ping.ping_key, ping.slug)
        if key not in by_slug and ping.create:
            created = _create_by_slug(conn, ping.ping_key, ping.slug, ping.at)
            if created is not None:
                by_slug[key] = created
        return by_slug.get(key)

    def _apply(
        self, conn: Connection, item: _Tracked, ping: PingIn, flip_rows: list[dict[str, Any]]
    ) -> dict[str, Any]:
        duration_ms = None
        if ping.kind in (PingKind.SUCCESS, PingKind.FAIL):
            started = _start_time(conn, item, ping)
            if started is not None and started <= ping.at:
                duration_ms = (ping.at - started).total_seconds() * 1000
                item.last_duration_ms = duration_ms
        if ping.kind == PingKind.START and ping.rid:
            item.starts_by_rid[ping.rid] = ping.at
        transition = apply_ping(
            item.state, item.schedule, ping.kind, ping.at, ping.rid, self.cron_tolerance
        )
        _record(item, transition, flip_rows)
        item.new_pings += 1
        return {
            "check_id": item.row["id"],
            "created_at": ping.at,
            "kind": ping.kind.value,
            "method": ping.method,
            "remote_addr": ping.remote_addr,
            "user_agent": ping.user_agent,
            "exit_status": ping.exit_status,
            "body": ping.body,
            "body_truncated": ping.body_truncated,
            "rid": ping.rid,
            "duration_ms": duration_ms,
        }


def _record(item: _Tracked, transition: Transition, flip_rows: list[dict[str, Any]]) -> None:
    item.state = transition.state
    if transition.flip is not None:
        flip_rows.append(flip_row(item.row["id"], transition.flip))


def flip_row(check_id: int, flip: Flip) -> dict[str, Any]:
    return {
        "check_id": check_id,
        "created_at": flip.at,
        "old_status": flip.old_status.value,
        "new_status": flip.new_status.value,
        "reason": flip.reason.value if flip.reason else None,
    }


_PING_COLUMNS = (
    "check_id",
    "created_at",
    "kind",
    "method",
    "remote_addr",
    "user_agent",
    "exit_status",
    "body",
    "body_truncated",
    "rid",
    "duration_ms",
)
_INSERT_PINGS = BulkInsert(pings, _PING_COLUMNS)
_INSERT_FLIPS = BulkInsert(flips, ("check_id", "created_at", "old_status", "new_status", "reason"))
_UPDATE_STATES = BulkUpdate(
    checks, ("id",), (*_STATE_COLUMNS, "last_duration_ms"), adding=("n_pings",)
)


def _update_states(conn: Connection, items: Any) -> None:
    rows = []
    for item in items:
        row = state_values(item.state, item.schedule)
        row["id"] = item.row["id"]
        row["n_pings"] = item.new_pings
        row["last_duration_ms"] = (
            item.last_duration_ms
            if item.last_duration_ms is not None
            else item.row["last_duration_ms"]
        )
        rows.append(row)
    _UPDATE_STATES(conn, rows)


@dataclass(frozen=True)
class EvaluationResult:
    checked: int
    flips: list[tuple[int, Flip]]


def evaluate_due(conn: Connection, now: datetime, limit: int = 1000) -> EvaluationResult:
    """Move every check whose deadline has passed, using the next_deadline_at index."""
    query = (
        select(*_MOVING_COLUMNS)
        .where(and_(checks.c.next_deadline_at.is_not(None), checks.c.next_deadline_at <= now))
        .order_by(checks.c.next_deadline_at)
        .limit(limit)
    )
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    tracked: list[_Tracked] = []
    flip_rows: list[dict[str, Any]] = []
    found: list[tuple[int, Flip]] = []
    for row in conn.execute(query).mappings():
        item = _Tracked(row, schedule_of(row), state_of(row))
        while True:
            transition = evaluate(item.state, item.schedule, now)
            if transition.flip is None:
                break
            found.append((row["id"], transition.flip))
            _record(item, transition, flip_rows)
        tracked.append(item)
    _INSERT_FLIPS(conn, flip_rows)
    if tracked:
        _update_states(conn, tracked)
    return EvaluationResult(len(tracked), found)


def evaluate_handler(conn: Connection, batch: Sequence[datetime]) -> list[EvaluationResult]:
    return [evaluate_due(conn, now) for now in batch]


def new_ping_key() -> str:
    return secrets.token_urlsafe(16)
