"""Schedules of heartbeat checks: simple (period + grace) or cron (expression + timezone)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError

MAX_PERIOD = timedelta(days=365)


class ScheduleKind(StrEnum):
    SIMPLE = "simple"
    CRON = "cron"


class ScheduleError(ValueError):
    """A schedule field holds a value that cannot work; `field` names it."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class Schedule:
    kind: ScheduleKind = ScheduleKind.SIMPLE
    period: timedelta = timedelta(days=1)
    grace: timedelta = timedelta(hours=1)
    cron: str | None = None
    tz: str = "UTC"
    max_runtime: timedelta | None = None

    def __post_init__(self) -> None:
        validate_schedule(self)


def zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ScheduleError("tz", f"unknown timezone {tz!r}") from exc


def validate_schedule(schedule: Schedule) -> None:
    if schedule.grace < timedelta(0):
        raise ScheduleError("grace", "must not be negative")
    if schedule.max_runtime is not None and schedule.max_runtime <= timedelta(0):
        raise ScheduleError("max_runtime", "must be positive")
    if schedule.kind == ScheduleKind.SIMPLE:
        if schedule.period <= timedelta(0):
            raise ScheduleError("period", "must be positive")
        if schedule.period > MAX_PERIOD:
            raise ScheduleError("period", "must be at most 365 days")
        return
    if not schedule.cron or not schedule.cron.strip():
        raise ScheduleError("schedule", "a cron check needs a cron expression")
    tzinfo = zone(schedule.tz)
    try:
        next(CronSim(schedule.cron, datetime(2000, 1, 1, tzinfo=tzinfo)))
    except CronSimError as exc:
        raise ScheduleError("schedule", f"invalid cron expression: {exc}") from exc
    except StopIteration as exc:
        raise ScheduleError("schedule", "cron expression never matches") from exc


def _require_aware(at: datetime) -> None:
    if at.tzinfo is None:
        raise ValueError("datetimes passed to the domain must be timezone-aware")


def cron_times_after(expression: str, tz: str, after: datetime, count: int) -> list[datetime]:
    """The next `count` fire times strictly after `after`, in UTC, DST-correct."""
    _require_aware(after)
    iterator = CronSim(expression, after.astimezone(zone(tz)))
    times: list[datetime] = []
    for fire in iterator:
        times.append(fire.astimezone(UTC))
        if len(times) == count:
            break
    return times


def next_expected_after(
    schedule: Schedule, ping_at: datetime, cron_tolerance: timedelta
) -> datetime:
    """When the next ping is due, given a ping (success or start) at `ping_at`.

    For cron schedules a ping up to `cron_tolerance` before a scheduled time counts
    for that time, so a slightly fast client clock does not produce a false "missed".
    """
    _require_aware(ping_at)
    if schedule.kind == ScheduleKind.SIMPLE:
        return ping_at + schedule.period
    assert schedule.cron is not None
    return cron_times_after(schedule.cron, schedule.tz, ping_at + cron_tolerance, 1)[0]


def upcoming(schedule: Schedule, after: datetime, count: int = 5) -> list[datetime]:
    """Preview of the next expected times (for cron) or period steps (for simple)."""
    _require_aware(after)
    if schedule.kind == ScheduleKind.SIMPLE:
        return [after + schedule.period * (i + 1) for i in range(count)]
    assert schedule.cron is not None
    return cron_times_after(schedule.cron, schedule.tz, after, count)
