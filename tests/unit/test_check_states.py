"""The check state machine: pings and the passing of time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jobpulse.domain.checks import (
    CheckState,
    DownReason,
    PingKind,
    Status,
    apply_ping,
    evaluate,
    next_deadline,
    pause,
    ping_kind_for_exit_status,
    reschedule,
    resume,
)
from jobpulse.domain.schedule import Schedule

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)
SCHEDULE = Schedule(period=timedelta(seconds=2), grace=timedelta(seconds=1))
WITH_RUNTIME = Schedule(
    period=timedelta(hours=1), grace=timedelta(minutes=5), max_runtime=timedelta(minutes=10)
)


def ping(
    state: CheckState,
    kind: PingKind,
    at: datetime,
    schedule: Schedule = SCHEDULE,
    rid: str | None = None,
) -> CheckState:
    return apply_ping(state, schedule, kind, at, rid).state


def settle(
    state: CheckState, now: datetime, schedule: Schedule = SCHEDULE
) -> tuple[CheckState, list[tuple[Status, DownReason | None, datetime]]]:
    flips = []
    while True:
        transition = evaluate(state, schedule, now)
        if transition.flip is None:
            return state, flips
        flips.append((transition.flip.new_status, transition.flip.reason, transition.flip.at))
        state = transition.state


def test_a_new_check_waits_for_its_first_ping() -> None:
    assert next_deadline(CheckState(), SCHEDULE) is None
    assert evaluate(CheckState(), SCHEDULE, T0 + timedelta(days=9)).flip is None


def test_success_makes_a_check_up_then_late_then_down_missed() -> None:
    transition = apply_ping(CheckState(), SCHEDULE, PingKind.SUCCESS, T0)
    assert transition.state.status == Status.UP
    assert transition.flip is not None and transition.flip.old_status == Status.NEW
    up = transition.state
    assert next_deadline(up, SCHEDULE) == T0 + 2 * SECOND
    assert evaluate(up, SCHEDULE, T0 + 1.9 * SECOND).flip is None
    late = evaluate(up, SCHEDULE, T0 + 2 * SECOND)
    assert late.state.status == Status.LATE and late.flip is not None
    assert late.flip.at == T0 + 2 * SECOND
    assert next_deadline(late.state, SCHEDULE) == T0 + 3 * SECOND
    down = evaluate(late.state, SCHEDULE, T0 + 3 * SECOND)
    assert down.state.status == Status.DOWN and down.state.down_reason == DownReason.MISSED
    assert next_deadline(down.state, SCHEDULE) is None


def test_a_long_silence_records_late_then_down_each_at_its_deadline() -> None:
    up = ping(CheckState(), PingKind.SUCCESS, T0)
    _state, flips = settle(up, T0 + timedelta(hours=1))
    assert flips == [
        (Status.LATE, None, T0 + 2 * SECOND),
        (Status.DOWN, DownReason.MISSED, T0 + 3 * SECOND),
    ]


def test_a_fail_signal_makes_a_check_down_failed_and_success_recovers_it() -> None:
    up = ping(CheckState(), PingKind.SUCCESS, T0)
    down = apply_ping(up, SCHEDULE, PingKind.FAIL, T0 + SECOND)
    assert down.state.status == Status.DOWN and down.state.down_reason == DownReason.FAILED
    assert down.flip is not None and down.flip.reason == DownReason.FAILED
    recovered = apply_ping(down.state, SCHEDULE, PingKind.SUCCESS, T0 + 2 * SECOND)
    assert recovered.state.status == Status.UP and recovered.state.down_reason is None
    assert recovered.flip is not None and recovered.flip.old_status == Status.DOWN


@pytest.mark.parametrize(
    ("exit_status", "kind"), [(0, PingKind.SUCCESS), (1, PingKind.FAIL), (255, PingKind.FAIL)]
)
def test_exit_status_zero_is_success_and_anything_else_fails(
    exit_status: int, kind: PingKind
) -> None:
    assert ping_kind_for_exit_status(exit_status) == kind


@pytest.mark.parametrize("exit_status", [-1, 256, 1000])
def test_it_rejects_exit_status_outside_0_to_255(exit_status: int) -> None:
    with pytest.raises(ValueError):
        ping_kind_for_exit_status(exit_status)


def test_start_makes_a_check_running_and_a_zombie_run_goes_down_stuck() -> None:
    running = ping(CheckState(), PingKind.START, T0, WITH_RUNTIME)
    assert running.status == Status.RUNNING
    assert next_deadline(running, WITH_RUNTIME) == T0 + timedelta(minutes=10)
    stuck = evaluate(running, WITH_RUNTIME, T0 + timedelta(minutes=10))
    assert stuck.state.status == Status.DOWN and stuck.state.down_reason == DownReason.STUCK
    assert stuck.state.started_at is None


def test_a_run_that_finishes_in_time_is_up() -> None:
    running = ping(CheckState(), PingKind.START, T0, WITH_RUNTIME)
    done = ping(running, PingKind.SUCCESS, T0 + timedelta(minutes=3), WITH_RUNTIME)
    assert done.status == Status.UP and done.started_at is None
    assert done.next_expected_at == T0 + timedelta(minutes=63)


def test_a_running_check_without_max_runtime_goes_down_missed_after_its_next_expected_time() -> (
    None
):
    schedule = Schedule(period=timedelta(hours=1), grace=timedelta(minutes=5))
    running = ping(CheckState(), PingKind.START, T0, schedule)
    _state, flips = settle(running, T0 + timedelta(hours=2), schedule)
    assert flips == [(Status.DOWN, DownReason.MISSED, T0 + timedelta(minutes=65))]


def test_a_finish_with_another_runs_rid_keeps_the_open_run() -> None:
    first = ping(CheckState(), PingKind.START, T0, WITH_RUNTIME, rid="a")
    second = ping(first, PingKind.START, T0 + SECOND, WITH_RUNTIME, rid="b")
    after_a = apply_ping(second, WITH_RUNTIME, PingKind.SUCCESS, T0 + 2 * SECOND, "a")
    assert after_a.state.status == Status.RUNNING and after_a.flip is None
    after_b = ping(after_a.state, PingKind.SUCCESS, T0 + 3 * SECOND, WITH_RUNTIME, rid="b")
    assert after_b.status == Status.UP


def test_a_log_ping_changes_nothing() -> None:
    up = ping(CheckState(), PingKind.SUCCESS, T0)
    logged = apply_ping(up, SCHEDULE, PingKind.LOG, T0 + SECOND)
    assert logged.state == up and logged.flip is None


def test_paused_checks_never_go_late_and_a_ping_resumes_them() -> None:
    up = ping(CheckState(), PingKind.SUCCESS, T0)
    paused = pause(up, T0 + SECOND).state
    assert next_deadline(paused, SCHEDULE) is None
    assert evaluate(paused, SCHEDULE, T0 + timedelta(days=1)).flip is None
    pinged = apply_ping(paused, SCHEDULE, PingKind.SUCCESS, T0 + timedelta(days=1))
    assert pinged.state.status == Status.UP and pinged.flip is not None


def test_resume_turns_a_paused_check_new() -> None:
    paused = pause(ping(CheckState(), PingKind.SUCCESS, T0), T0).state
    resumed = resume(paused, T0 + SECOND)
    assert resumed.state.status == Status.NEW and resumed.state.next_expected_at is None
    assert resume(resumed.state, T0).flip is None


def test_a_longer_period_brings_a_late_check_back_up() -> None:
    late = evaluate(ping(CheckState(), PingKind.SUCCESS, T0), SCHEDULE, T0 + 2 * SECOND).state
    longer = Schedule(period=timedelta(hours=1), grace=timedelta(minutes=1))
    moved = reschedule(late, longer, T0 + 2 * SECOND)
    assert moved.state.status == Status.UP
    assert moved.state.next_expected_at == T0 + timedelta(hours=1)


kinds = st.sampled_from(list(PingKind))
steps = st.lists(
    st.tuples(st.sampled_from(["ping", "tick"]), kinds, st.integers(min_value=0, max_value=5000)),
    max_size=30,
)


@settings(max_examples=400, deadline=None)
@given(steps=steps)
def test_any_sequence_of_pings_and_ticks_keeps_the_invariants(
    steps: list[tuple[str, PingKind, int]],
) -> None:
    state = CheckState()
    now = T0
    for action, kind, delta_ms in steps:
        now += timedelta(milliseconds=delta_ms)
        if action == "ping":
            transition = apply_ping(state, WITH_RUNTIME, kind, now)
        else:
            transition = evaluate(state, WITH_RUNTIME, now)
        if transition.flip is not None:
            assert transition.flip.old_status == state.status
            assert transition.flip.new_status == transition.state.status
            assert transition.flip.at <= now
        state = transition.state
        # down always has a reason, and only down has one
        assert (state.status == Status.DOWN) == (state.down_reason is not None)
        # only a running check has an open run
        assert (state.status == Status.RUNNING) == (state.started_at is not None)
        deadline = next_deadline(state, WITH_RUNTIME)
        if state.status in (Status.NEW, Status.DOWN, Status.PAUSED):
            assert deadline is None
        else:
            assert deadline is not None
        # after settling, nothing is overdue
        settled, _ = settle(state, now, WITH_RUNTIME)
        remaining = next_deadline(settled, WITH_RUNTIME)
        assert remaining is None or remaining > now
