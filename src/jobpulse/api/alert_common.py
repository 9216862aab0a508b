"""Pieces shared by the alerting routers: matchers, time, the project-table CRUD calls."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Response
from pydantic import AfterValidator, Field
from sqlalchemy import RowMapping

from jobpulse.api.deps import read
from jobpulse.api.errors import ApiError, not_found
from jobpulse.runtime import Runtime
from jobpulse.store.alerts import Change, Conflict, ProjectTable
from jobpulse.store.projects import Principal

MATCHER_KEYS = frozenset(
    (
        "severity",
        "rule",
        "rule_kind",
        "subject_kind",
        "subject",
        "check",
        "task",
        "queue",
        "worker",
        "probe",
        "tag",
    )
)


def _known_keys(matchers: dict[str, str]) -> dict[str, str]:
    for key in matchers:
        if key not in MATCHER_KEYS:
            raise ValueError(f"unknown matcher {key!r} (known: {', '.join(sorted(MATCHER_KEYS))})")
    return matchers


Matchers = Annotated[
    dict[str, Annotated[str, Field(min_length=1, max_length=200)]],
    Field(max_length=20, description="label -> glob; the key 'tag' matches any tag"),
    AfterValidator(_known_keys),
]


def now() -> datetime:
    return datetime.now(UTC)


def iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def conflict(exc: Conflict) -> ApiError:
    return ApiError(409, "conflict", [{"field": exc.field, "reason": exc.reason}])


async def create_row(
    runtime: Runtime, table: ProjectTable, who: Principal, values: dict[str, Any]
) -> RowMapping:
    change = Change(who.project_id, now(), values=values, base_url=runtime.settings.base_url)
    try:
        row: RowMapping = await runtime.writer.run(table.create, change)
    except Conflict as exc:
        raise conflict(exc) from None
    return row


async def update_row(
    runtime: Runtime, table: ProjectTable, who: Principal, row_id: int, values: dict[str, Any]
) -> RowMapping:
    change = Change(who.project_id, now(), row_id, values, runtime.settings.base_url)
    try:
        row: RowMapping | None = await runtime.writer.run(table.update, change)
    except Conflict as exc:
        raise conflict(exc) from None
    if row is None:
        raise not_found()
    return row


async def delete_row(
    runtime: Runtime, table: ProjectTable, who: Principal, row_id: int
) -> Response:
    change = Change(who.project_id, now(), row_id, base_url=runtime.settings.base_url)
    try:
        deleted = await runtime.writer.run(table.delete, change)
    except Conflict as exc:
        raise conflict(exc) from None
    if not deleted:
        raise not_found()
    return Response(status_code=204)


async def existing(
    runtime: Runtime, table: ProjectTable, who: Principal, row_id: int
) -> RowMapping:
    row = await read(runtime, table.get, who.project_id, row_id)
    if row is None:
        raise not_found()
    return row
