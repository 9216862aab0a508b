"""The heartbeat check state machine.

Statuses: new, up, running, late, down, paused. Pings move a check (`apply_ping`);
the passing of time moves it too (`evaluate`), one deadline at a time.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from jobpulse.domain.schedule import Schedule, next_expected_after


class Status(StrEnum):
    NEW = "new"
    UP = "up"
    RUNNING = "running"
    LATE = "late"
    DOWN = "down"
    PAUSED = "paused"


class DownReason(StrEnum):
    MISSED = "missed"
    FAILED = "failed"
    STUCK = "stuck"


class PingKind(StrEnum):
    SUCCESS = "success"
    START = "start"
    FAIL = "fail"
    LOG = "log"


@dataclass(frozen=True)
class CheckState:
    status: Status = Status.NEW
    down_reason: DownReason | None = None
    last_ping_at: datetime | None = None
    started_at: datetime | None = None
    start_rid: str | None = None
    next_expected_at: datetime | None = None


@dataclass(frozen=True)
class Flip:
    at: datetime
    old_status: Status
    new_status: Status
    reason: DownReason | None


@dataclass(frozen=True)
class Transition:
    state: CheckState
    flip: Flip | None


def ping_kind_for_exit_status(exit_status: int) -> PingKind:
    if not 0 <= exit_status <= 255:
        raise ValueError("exit status must be within 0..255")
    return PingKind.SUCCESS if exit_status == 0 else PingKind.FAIL


def _moved(old: CheckState, new: CheckState, at: datetime) -> Transition:
    changed = old.status != new.status or old.down_reason != new.down_reason
    flip = Flip(at, old.status, new.status, new.down_reason) if changed else None
    return Transition(new, flip)


def apply_ping(
    state: CheckState,
    schedule: Schedule,
    kind: PingKind,
    at: datetime,
    rid: str | None = None,
    cron_tolerance: timedelta = timedelta(0),
) -> Transition:
    """The state after a ping of `kind` received at `at`.

    A ping to a paused check resumes it (as in Healthchecks). A `log` ping changes nothing.
    """
    if kind == PingKind.LOG:
        return Transition(state, None)
    next_expected = next_expected_after(schedule, at, cron_tolerance)
    if kind == PingKind.START:
        new = replace(
            state,
            status=Status.RUNNING,
            down_reason=None,
            last_ping_at=at,
            started_at=at,
            start_rid=rid,
            next_expected_at=next_expected,
        )
        return _moved(state, new, at)
    finishes_open_run = rid is None or state.start_rid is None or rid == state.start_rid
    if kind == PingKind.FAIL:
        new = replace(
            state,
            status=Status.DOWN,
            down_reason=DownReason.FAILED,
            last_ping_at=at,
            started_at=None,
            start_rid=None,
            next_expected_at=next_expected,
        )
        return _moved(state, new, at)
    if state.status == Status.RUNNING and not finishes_open_run:
        # Another run (with its own rid) is still open: record the success, stay running.
        return Transition(replace(state, last_ping_at=at, next_expected_at=next_expected), None)
    new = replace(
        state,
        status=Status.UP,
        down_reason=None,
        last_ping_at=at,
        started_at=None,
        start_rid=None,
        next_expected_at=next_expected,
    )
    return _moved(state, new, at)


def _deadlines(
    state: CheckState, schedule: Schedule
) -> list[tuple[datetime, Status, DownReason | None]]:
    """Each (time, status it leads to, reason) that could move the check without a ping."""
    found: list[tuple[datetime, Status, DownReason | None]] = []
    expected = state.next_expected_at
    if state.status == Status.UP and expected is not None:
        found.append((expected, Status.LATE, None))
    if state.status in (Status.UP, Status.LATE, Status.RUNNING) and expected is not None:
        found.append((expected + schedule.grace, Status.DOWN, DownReason.MISSED))
    if (
        state.status == Status.RUNNING
        and state.started_at is not None
        and schedule.max_runtime is not None
    ):
        found.append((state.started_at + schedule.max_runtime, Status.DOWN, DownReason.STUCK))
    return found


def next_deadline(state: CheckState, schedule: Schedule) -> datetime | None:
    """The earliest time at which `evaluate` could move this check, or None."""
    deadlines = _deadlines(state, schedule)
    return min(d[0] for d in deadlines) if deadlines else None


def evaluate(state: CheckState, schedule: Schedule, now: datetime) -> Transition:
    """Apply the earliest deadline that has passed by `now` (at most one step).

    Call again until the flip is None: a check unseen for a long time goes up → late → down,
    each flip stamped with its own deadline.
    """
    passed = [d for d in _deadlines(state, schedule) if d[0] <= now]
    if not passed:
        return Transition(state, None)
    at, status, reason = min(passed, key=lambda d: d[0])
    new = replace(state, status=status, down_reason=reason)
    if status == Status.DOWN:
        new = replace(new, started_at=None, start_rid=None)
    return _moved(state, new, at)


def pause(state: CheckState, at: datetime) -> Transition:
    new = replace(state, status=Status.PAUSED, down_reason=None, started_at=None, start_rid=None)
    return _moved(state, new, at)


def resume(state: CheckState, at: datetime) -> Transition:
    """A resumed check waits for its next ping, as a new one does."""
    if state.status != Status.PAUSED:
        return Transition(state, None)
    return _moved(state, replace(state, status=Status.NEW, next_expected_at=None), at)


def reschedule(
    state: CheckState,
    schedule: Schedule,
    now: datetime,
    cron_tolerance: timedelta = timedelta(0),
) -> Transition:
    """The state after the check's schedule changed: expected time recomputed from the last ping."""
    if state.last_ping_at is None or state.status in (Status.NEW, Status.PAUSED):
        return Transition(state, None)
    expected = next_expected_after(schedule, state.last_ping_at, cron_tolerance)
    new = replace(state, next_expected_at=expected)
    if state.status == Status.LATE and expected > now:
        new = replace(new, status=Status.UP)
    return _moved(state, new, now)
