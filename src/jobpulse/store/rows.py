"""Conversions between check rows and domain values, shared by every check repository."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any, TypeVar

from sqlalchemy import Connection, RowMapping

from jobpulse.domain.checks import CheckState, DownReason, Status, next_deadline
from jobpulse.domain.schedule import Schedule, ScheduleKind

A = TypeVar("A")
R = TypeVar("R")


def each(function: Callable[[Connection, A], R]) -> Callable[[Connection, Sequence[A]], list[R]]:
    """Make a writer batch handler out of a function that handles one argument."""

    def handler(conn: Connection, arguments: Sequence[A]) -> list[R]:
        return [function(conn, argument) for argument in arguments]

    handler.__name__ = getattr(function, "__name__", "handler")
    return handler


def schedule_of(row: RowMapping) -> Schedule:
    return Schedule(
        kind=ScheduleKind(row["kind"]),
        period=timedelta(seconds=row["period_s"]),
        grace=timedelta(seconds=row["grace_s"]),
        cron=row["cron"],
        tz=row["tz"],
        max_runtime=(
            timedelta(seconds=row["max_runtime_s"]) if row["max_runtime_s"] is not None else None
        ),
    )


def schedule_values(schedule: Schedule) -> dict[str, Any]:
    return {
        "kind": schedule.kind.value,
        "period_s": schedule.period.total_seconds(),
        "grace_s": schedule.grace.total_seconds(),
        "cron": schedule.cron,
        "tz": schedule.tz,
        "max_runtime_s": (
            schedule.max_runtime.total_seconds() if schedule.max_runtime is not None else None
        ),
    }


def state_of(row: RowMapping) -> CheckState:
    return CheckState(
        status=Status(row["status"]),
        down_reason=DownReason(row["down_reason"]) if row["down_reason"] else None,
        last_ping_at=row["last_ping_at"],
        started_at=row["started_at"],
        start_rid=row["start_rid"],
        next_expected_at=row["next_expected_at"],
    )


def state_values(state: CheckState, schedule: Schedule) -> dict[str, Any]:
    return {
        "status": state.status.value,
        "down_reason": state.down_reason.value if state.down_reason else None,
        "last_ping_at": state.last_ping_at,
        "started_at": state.started_at,
        "start_rid": state.start_rid,
        "next_expected_at": state.next_expected_at,
        "next_deadline_at": next_deadline(state, schedule),
    }
