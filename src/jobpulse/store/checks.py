"""Check repository: create, read, update, delete, pause and resume; pings and flips lists."""

from __future__ import annotations

import uuid as uuid_module
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Connection,
    RowMapping,
    String,
    cast,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)

from jobpulse.domain import checks as machine
from jobpulse.domain.checks import CheckState, Status
from jobpulse.domain.schedule import Schedule, ScheduleError, ScheduleKind
from jobpulse.store.pings import flip_row
from jobpulse.store.rows import each, schedule_of, schedule_values, state_of, state_values
from jobpulse.store.tables import checks, flips, pings

SCHEDULE_FIELDS = ("kind", "period", "grace", "schedule", "tz", "max_runtime")


class SlugTaken(ValueError):
    def __init__(self, slug: str) -> None:
        super().__init__(f"slug {slug!r} is already used by another check of this project")
        self.field = "slug"
        self.reason = "already used by another check of this project"


@dataclass(frozen=True)
class CheckSpec:
    name: str
    schedule: Schedule
    slug: str | None = None
    tags: list[str] = field(default_factory=list)
    description: str = ""
    uuid: str | None = None  # kept on import, so ping URLs survive a move; else a new one


@dataclass(frozen=True)
class CheckChange:
    """A partial update; `fields` holds only what the client sent."""

    project_id: int
    uuid: str
    fields: dict[str, Any]
    now: datetime
    cron_tolerance: timedelta


def schedule_with(current: Schedule, changes: dict[str, Any]) -> Schedule:
    """The current schedule with the changed fields applied (validated on construction)."""

    def seconds(name: str) -> timedelta | None:
        value = changes[name]
        return None if value is None else timedelta(seconds=value)

    values: dict[str, Any] = {}
    if "kind" in changes:
        values["kind"] = ScheduleKind(changes["kind"])
    for name in ("period", "grace"):
        if name in changes:
            if changes[name] is None:
                raise ScheduleError(name, "must not be null")
            values[name] = seconds(name)
    if "max_runtime" in changes:
        values["max_runtime"] = seconds("max_runtime")
    if "schedule" in changes:
        values["cron"] = changes["schedule"]
    if "tz" in changes:
        values["tz"] = changes["tz"] or "UTC"
    return replace(current, **values)


def _slug_free(conn: Connection, project_id: int, slug: str | None, except_id: int | None) -> None:
    if not slug:
        return
    query = select(checks.c.id).where(checks.c.project_id == project_id, checks.c.slug == slug)
    if except_id is not None:
        query = query.where(checks.c.id != except_id)
    if conn.execute(query).first() is not None:
        raise SlugTaken(slug)


def _get_locked(conn: Connection, project_id: int, check_uuid: str) -> RowMapping | None:
    query = select(checks).where(checks.c.project_id == project_id, checks.c.uuid == check_uuid)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    return conn.execute(query).mappings().first()


def _one(conn: Connection, check_id: int) -> RowMapping:
    return conn.execute(select(checks).where(checks.c.id == check_id)).mappings().one()


def _create(conn: Connection, argument: tuple[int, CheckSpec, datetime]) -> RowMapping:
    project_id, spec, now = argument
    _slug_free(conn, project_id, spec.slug, None)
    result = conn.execute(
        insert(checks).values(
            uuid=spec.uuid or str(uuid_module.uuid4()),
            project_id=project_id,
            name=spec.name,
            slug=spec.slug,
            tags=spec.tags,
            description=spec.description,
            n_pings=0,
            created_at=now,
            updated_at=now,
            **schedule_values(spec.schedule),
            **state_values(CheckState(), spec.schedule),
        )
    )
    return _one(conn, int(result.inserted_primary_key[0]))


def _save_transition(
    conn: Connection,
    row: RowMapping,
    transition: machine.Transition,
    schedule: Schedule,
    extra: dict[str, Any],
    now: datetime,
) -> RowMapping:
    values = {**extra, **state_values(transition.state, schedule), "updated_at": now}
    conn.execute(update(checks).where(checks.c.id == row["id"]).values(values))
    if transition.flip is not None:
        conn.execute(insert(flips).values(flip_row(row["id"], transition.flip)))
    return _one(conn, row["id"])


def _update(conn: Connection, change: CheckChange) -> RowMapping | None:
    row = _get_locked(conn, change.project_id, change.uuid)
    if row is None:
        return None
    extra = {k: change.fields[k] for k in ("name", "tags", "description") if k in change.fields}
    if "slug" in change.fields:
        _slug_free(conn, change.project_id, change.fields["slug"], row["id"])
        extra["slug"] = change.fields["slug"]
    schedule = schedule_of(row)
    transition = machine.Transition(state_of(row), None)
    if any(name in change.fields for name in SCHEDULE_FIELDS):
        schedule = schedule_with(schedule, change.fields)
        extra.update(schedule_values(schedule))
        transition = machine.reschedule(
            transition.state, schedule, change.now, change.cron_tolerance
        )
    return _save_transition(conn, row, transition, schedule, extra, change.now)


def _set_paused(conn: Connection, argument: tuple[int, str, bool, datetime]) -> RowMapping | None:
    project_id, check_uuid, paused, now = argument
    row = _get_locked(conn, project_id, check_uuid)
    if row is None:
        return None
    state = state_of(row)
    transition = machine.pause(state, now) if paused else machine.resume(state, now)
    return _save_transition(conn, row, transition, schedule_of(row), {}, now)


def _delete(conn: Connection, argument: tuple[int, str]) -> bool:
    project_id, check_uuid = argument
    row = _get_locked(conn, project_id, check_uuid)
    if row is None:
        return False
    conn.execute(delete(pings).where(pings.c.check_id == row["id"]))
    conn.execute(delete(flips).where(flips.c.check_id == row["id"]))
    conn.execute(delete(checks).where(checks.c.id == row["id"]))
    return True


create_check = each(_create)
update_check = each(_update)
set_paused = each(_set_paused)
delete_check = each(_delete)


def get_check(conn: Connection, project_id: int, check_uuid: str) -> RowMapping | None:
    query = select(checks).where(checks.c.project_id == project_id, checks.c.uuid == check_uuid)
    return conn.execute(query).mappings().first()


def list_checks(
    conn: Connection,
    project_id: int,
    *,
    status: str | None = None,
    tag: str | None = None,
    search: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[int, list[RowMapping]]:
    query = select(checks).where(checks.c.project_id == project_id)
    if status:
        query = query.where(checks.c.status == status)
    if search:
        pattern = f"%{search.lower()}%"
        query = query.where(
            or_(func.lower(checks.c.name).like(pattern), func.lower(checks.c.slug).like(pattern))
        )
    if tag:
        # Tags are validated to [A-Za-z0-9_.:-], so the quoted form is unambiguous in the JSON text.
        query = query.where(cast(checks.c.tags, String).like(f'%"{tag}"%'))
    total = conn.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    page = query.order_by(checks.c.name, checks.c.id).limit(limit).offset(offset)
    return int(total), list(conn.execute(page).mappings())


def _history(
    table: Any, conn: Connection, check_id: int, limit: int, before: int | None
) -> list[RowMapping]:
    query = select(table).where(table.c.check_id == check_id)
    if before is not None:
        query = query.where(table.c.id < before)
    return list(conn.execute(query.order_by(table.c.id.desc()).limit(limit)).mappings())


def list_pings(
    conn: Connection, check_id: int, limit: int = 100, before: int | None = None
) -> list[RowMapping]:
    return _history(pings, conn, check_id, limit, before)


def list_flips(
    conn: Connection, check_id: int, limit: int = 100, before: int | None = None
) -> list[RowMapping]:
    return _history(flips, conn, check_id, limit, before)


def status_counts(conn: Connection, project_id: int) -> dict[str, int]:
    query = (
        select(checks.c.status, func.count())
        .where(checks.c.project_id == project_id)
        .group_by(checks.c.status)
    )
    counts = {status.value: 0 for status in Status}
    counts.update({status: int(n) for status, n in conn.execute(query)})
    return counts
