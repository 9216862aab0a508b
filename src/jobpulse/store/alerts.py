"""Repositories of the alerting configuration (rules, channels, routes, silences, probes) and
of incidents (list, acknowledge, resolve). Writes are writer batch handlers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, Table, delete, func, insert, select, update

from jobpulse.store.alert_tick import incident_row
from jobpulse.store.alerts_tables import (
    alert_channels,
    alert_probes,
    alert_routes,
    alert_rules,
    alert_silences,
    alert_trackers,
    incidents,
)
from jobpulse.store.outbox import enqueue_notice, load_routing, notices_of
from jobpulse.store.rows import each


class Conflict(ValueError):
    """The change clashes with stored data; `field` names what to change."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class Change:
    """A write to one project's row: create (id None), update or delete."""

    project_id: int
    now: datetime
    id: int | None = None
    values: dict[str, Any] = field(default_factory=dict)
    base_url: str = ""


class ProjectTable:
    """Create, read, update and delete the rows of one project in one table."""

    def __init__(self, table: Table, *, unique_name: bool = False, stamps: bool = True) -> None:
        self.table = table
        self._unique_name = unique_name
        self._stamps = stamps
        self.create = each(self._create)
        self.update = each(self._update)
        self.delete = each(self._delete)

    def get(self, conn: Connection, project_id: int, row_id: int) -> RowMapping | None:
        query = select(self.table).where(
            self.table.c.project_id == project_id, self.table.c.id == row_id
        )
        return conn.execute(query).mappings().first()

    def list(self, conn: Connection, project_id: int) -> list[RowMapping]:
        query = select(self.table).where(self.table.c.project_id == project_id)
        return list(conn.execute(query.order_by(self.table.c.id)).mappings())

    def _name_free(self, conn: Connection, change: Change) -> None:
        name = change.values.get("name")
        if not self._unique_name or name is None:
            return
        query = select(self.table.c.id).where(
            self.table.c.project_id == change.project_id, self.table.c.name == name
        )
        if change.id is not None:
            query = query.where(self.table.c.id != change.id)
        if conn.execute(query).first() is not None:
            raise Conflict("name", "already used in this project")

    def _create(self, conn: Connection, change: Change) -> RowMapping:
        self._name_free(conn, change)
        values = {**change.values, "project_id": change.project_id, "created_at": change.now}
        if self._stamps:
            values["updated_at"] = change.now
        (new_id,) = conn.execute(insert(self.table).values(values)).inserted_primary_key or (0,)
        found = self.get(conn, change.project_id, int(new_id))
        assert found is not None
        return found

    def _update(self, conn: Connection, change: Change) -> RowMapping | None:
        assert change.id is not None
        if self.get(conn, change.project_id, change.id) is None:
            return None
        self._name_free(conn, change)
        values = dict(change.values)
        if self._stamps:
            values["updated_at"] = change.now
        if values:
            conn.execute(update(self.table).where(self.table.c.id == change.id).values(values))
        return self.get(conn, change.project_id, change.id)

    def _delete(self, conn: Connection, change: Change) -> bool:
        assert change.id is not None
        query = delete(self.table).where(
            self.table.c.project_id == change.project_id, self.table.c.id == change.id
        )
        return bool(conn.execute(query).rowcount)


channels = ProjectTable(alert_channels)
routes = ProjectTable(alert_routes, stamps=False)
silences = ProjectTable(alert_silences, stamps=False)
probes = ProjectTable(alert_probes, unique_name=True, stamps=False)


class RuleTable(ProjectTable):
    """Rules: disabling or deleting one resolves its incidents (with a resolved notice);
    the built-in rule can be changed and disabled but not deleted or re-kinded."""

    def _update(self, conn: Connection, change: Change) -> RowMapping | None:
        assert change.id is not None
        current = self.get(conn, change.project_id, change.id)
        if current is None:
            return None
        if current["builtin"] and change.values.get("kind", current["kind"]) != current["kind"]:
            raise Conflict("kind", "the built-in rule's kind cannot change")
        if change.values.get("enabled") is False or "kind" in change.values:
            _retire(conn, change, current["id"])
        return super()._update(conn, change)

    def _delete(self, conn: Connection, change: Change) -> bool:
        assert change.id is not None
        current = self.get(conn, change.project_id, change.id)
        if current is None:
            return False
        if current["builtin"]:
            raise Conflict("id", "the built-in rule cannot be deleted; disable it instead")
        _retire(conn, change, current["id"])
        return super()._delete(conn, change)


rules = RuleTable(alert_rules, unique_name=True)


def _retire(conn: Connection, change: Change, rule_id: int) -> None:
    open_ids = conn.execute(
        select(incidents.c.id).where(
            incidents.c.rule_id == rule_id, incidents.c.status != "resolved"
        )
    ).scalars()
    for incident_id in list(open_ids):
        _resolve(conn, change.project_id, incident_id, change.now, change.base_url)
    conn.execute(delete(alert_trackers).where(alert_trackers.c.rule_id == rule_id))


# --- incidents ----------------------------------------------------------------------------


def _resolve(
    conn: Connection, project_id: int, incident_id: int, now: datetime, base_url: str
) -> bool:
    changed = conn.execute(
        update(incidents)
        .where(
            incidents.c.id == incident_id,
            incidents.c.project_id == project_id,
            incidents.c.status != "resolved",
        )
        .values(status="resolved", resolved_at=now, resolved_by="api")
    ).rowcount
    if changed:
        incident = incident_row(conn, incident_id)
        enqueue_notice(
            conn, incident, "resolved", load_routing(conn, project_id, now), now, base_url
        )
    return bool(changed)


def _ack(conn: Connection, change: Change) -> RowMapping | None:
    conn.execute(
        update(incidents)
        .where(
            incidents.c.id == change.id,
            incidents.c.project_id == change.project_id,
            incidents.c.status == "open",
        )
        .values(status="acked", acked_at=change.now)
    )
    return get_incident(conn, change.project_id, change.id or 0)


def _resolve_by_hand(conn: Connection, change: Change) -> RowMapping | None:
    _resolve(conn, change.project_id, change.id or 0, change.now, change.base_url)
    return get_incident(conn, change.project_id, change.id or 0)


ack_incident = each(_ack)
resolve_incident = each(_resolve_by_hand)


def get_incident(conn: Connection, project_id: int, incident_id: int) -> RowMapping | None:
    query = select(incidents).where(
        incidents.c.project_id == project_id, incidents.c.id == incident_id
    )
    return conn.execute(query).mappings().first()


def list_incidents(
    conn: Connection,
    project_id: int,
    *,
    status: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[int, list[RowMapping]]:
    query = select(incidents).where(incidents.c.project_id == project_id)
    if status == "unresolved":
        query = query.where(incidents.c.status != "resolved")
    elif status:
        query = query.where(incidents.c.status == status)
    total = conn.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    page = query.order_by(incidents.c.id.desc()).limit(limit).offset(offset)
    return int(total), list(conn.execute(page).mappings())


def incident_with_notices(
    conn: Connection, project_id: int, incident_id: int
) -> tuple[RowMapping, list[RowMapping]] | None:
    incident = get_incident(conn, project_id, incident_id)
    if incident is None:
        return None
    return incident, list(notices_of(conn, incident_id))


def channel_ids_of(conn: Connection, project_id: int) -> set[int]:
    query = select(alert_channels.c.id).where(alert_channels.c.project_id == project_id)
    return set(conn.execute(query).scalars())
