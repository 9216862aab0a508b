"""Repository of declared queue sources. URLs keep their credentials in the database; every
value that leaves this module for display goes through `mask_url`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import Connection, RowMapping, select

from jobpulse.collectors.base import SourceConfig
from jobpulse.store.queues_tables import queue_sources
from jobpulse.store.rows import each

MASK = "***"


class SourceNameTaken(Exception):
    field = "name"
    reason = "a source with this name exists in the project"


@dataclass(frozen=True)
class SourceSpec:
    name: str
    library: str
    url: str
    queues: list[str] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)
    interval_s: float = 15.0
    timeout_s: float = 5.0
    enabled: bool = True


def mask_url(url: str) -> str:
    """The URL with its password (or a lone secret user part) replaced by ***."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return MASK
    if "@" not in parts.netloc:
        return url
    credentials, host = parts.netloc.rsplit("@", 1)
    user, has_password, _ = credentials.partition(":")
    masked = f"{user}:{MASK}" if has_password else MASK
    return urlunsplit(parts._replace(netloc=f"{masked}@{host}"))


def config_of(row: RowMapping) -> SourceConfig:
    return SourceConfig(
        name=row["name"],
        library=row["library"],
        url=row["url"],
        queues=tuple(row["queues"] or ()),
        options=dict(row["options"] or {}),
        interval_seconds=row["interval_s"],
        timeout_seconds=row["timeout_s"],
    )


def _values(spec: SourceSpec) -> dict[str, Any]:
    return {
        "name": spec.name,
        "library": spec.library,
        "url": spec.url,
        "queues": list(spec.queues),
        "options": dict(spec.options),
        "interval_s": spec.interval_s,
        "timeout_s": spec.timeout_s,
        "enabled": spec.enabled,
    }


def _by_name(conn: Connection, project_id: int, name: str) -> RowMapping | None:
    query = select(queue_sources).where(
        queue_sources.c.project_id == project_id, queue_sources.c.name == name
    )
    return conn.execute(query).mappings().first()


def _by_id(conn: Connection, source_id: int) -> RowMapping:
    query = select(queue_sources).where(queue_sources.c.id == source_id)
    return conn.execute(query).mappings().one()


def _create(conn: Connection, argument: tuple[int, SourceSpec, datetime]) -> RowMapping:
    project_id, spec, now = argument
    if _by_name(conn, project_id, spec.name) is not None:
        raise SourceNameTaken()
    values = _values(spec) | {"project_id": project_id, "created_at": now, "updated_at": now}
    source_id = conn.execute(queue_sources.insert().values(**values)).inserted_primary_key[0]
    return _by_id(conn, source_id)


def _update(
    conn: Connection, argument: tuple[int, str, dict[str, Any], datetime]
) -> RowMapping | None:
    project_id, name, changes, now = argument
    row = _by_name(conn, project_id, name)
    if row is None:
        return None
    new_name = changes.get("name")
    if new_name and new_name != name and _by_name(conn, project_id, new_name) is not None:
        raise SourceNameTaken()
    conn.execute(
        queue_sources.update()
        .where(queue_sources.c.id == row["id"])
        .values(**changes, updated_at=now)
    )
    return _by_id(conn, row["id"])


def _upsert(conn: Connection, argument: tuple[int, SourceSpec, datetime]) -> RowMapping:
    project_id, spec, now = argument
    row = _by_name(conn, project_id, spec.name)
    if row is None:
        return _create(conn, argument)
    conn.execute(
        queue_sources.update()
        .where(queue_sources.c.id == row["id"])
        .values(**_values(spec), updated_at=now)
    )
    return _by_id(conn, row["id"])


def _delete(conn: Connection, argument: tuple[int, str]) -> bool:
    project_id, name = argument
    result = conn.execute(
        queue_sources.delete().where(
            queue_sources.c.project_id == project_id, queue_sources.c.name == name
        )
    )
    return bool(result.rowcount)


create_source = each(_create)
update_source = each(_update)
upsert_source = each(_upsert)
delete_source = each(_delete)


def get_source(conn: Connection, project_id: int, name: str) -> RowMapping | None:
    return _by_name(conn, project_id, name)


def list_sources(conn: Connection, project_id: int) -> list[RowMapping]:
    query = (
        select(queue_sources)
        .where(queue_sources.c.project_id == project_id)
        .order_by(queue_sources.c.name)
    )
    return list(conn.execute(query).mappings())


def enabled_sources(conn: Connection) -> list[RowMapping]:
    """Every enabled source of every project: what the collectors runner samples."""
    query = select(queue_sources).where(queue_sources.c.enabled.is_(True))
    return list(conn.execute(query.order_by(queue_sources.c.id)).mappings())
