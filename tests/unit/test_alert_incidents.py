"""Flap damping, repeats, routing, silences and delivery backoff."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from jobpulse.domain.incidents import (
    Action,
    Labels,
    Route,
    Silence,
    Tracker,
    gives_up,
    matches,
    repeat_due,
    retry_delay,
    route_channels,
    silenced_by,
    step,
)

T0 = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
HOLD = timedelta(minutes=5)


def run(observations: list[tuple[int, bool]], hold: timedelta = HOLD) -> list[Action]:
    """Feed (second, condition) observations; the actions taken."""
    tracker = Tracker()
    actions = []
    for second, condition in observations:
        tracker, action = step(tracker, condition, T0 + timedelta(seconds=second), hold, hold)
        if action is not None:
            actions.append(action)
    return actions


def test_without_damping_a_condition_opens_and_clears_at_once() -> None:
    assert run([(0, True), (1, True), (2, False)], timedelta(0)) == [Action.OPEN, Action.RESOLVE]


def test_a_condition_must_hold_for_the_hold_time_to_fire_and_to_clear() -> None:
    assert run([(0, True), (299, True)]) == []
    assert run([(0, True), (300, True)]) == [Action.OPEN]
    assert run([(0, True), (300, True), (400, False), (699, False)]) == [Action.OPEN]
    assert run([(0, True), (300, True), (400, False), (700, False)]) == [
        Action.OPEN,
        Action.RESOLVE,
    ]


def test_a_known_start_time_counts_towards_the_hold() -> None:
    tracker, action = step(Tracker(), True, T0, HOLD, HOLD, since=T0 - HOLD)
    assert action == Action.OPEN and tracker.firing


@given(st.lists(st.tuples(st.integers(0, 299), st.booleans()), max_size=60))
def test_flapping_faster_than_the_hold_never_notifies(flaps: list[tuple[int, bool]]) -> None:
    # Each burst lasts under the hold time and is followed by an agreeing observation.
    observations = []
    second = 0
    for length, _ in flaps:
        observations += [(second, True), (second + length, True), (second + length + 1, False)]
        second += length + 2
    assert run(observations) == []


@given(st.lists(st.tuples(st.integers(1, 1000), st.booleans()), max_size=80))
def test_actions_alternate_open_resolve_and_match_the_tracker(
    steps: list[tuple[int, bool]],
) -> None:
    tracker = Tracker()
    at = T0
    last: Action | None = None
    for gap, condition in steps:
        at += timedelta(seconds=gap)
        tracker, action = step(tracker, condition, at, HOLD, HOLD)
        if action is not None:
            assert action != last
            assert tracker.firing is (action == Action.OPEN)
            last = action
        assert tracker.pending_since is None or tracker.pending_since <= at
    assert last in (None, Action.OPEN, Action.RESOLVE)


def test_only_open_critical_incidents_repeat_after_the_interval() -> None:
    every = timedelta(hours=1)
    later = T0 + every
    assert repeat_due("critical", "open", T0, every, later)
    assert not repeat_due("critical", "open", T0, every, later - timedelta(seconds=1))
    assert not repeat_due("critical", "acked", T0, every, later)
    assert not repeat_due("warning", "open", T0, every, later)
    assert not repeat_due("critical", "open", T0, None, later)


LABELS = Labels(
    {"severity": "critical", "check": "backup-db", "rule": "check down"}, frozenset({"prod"})
)


def test_matchers_are_globs_and_tag_matches_any_tag() -> None:
    assert matches({}, LABELS)
    assert matches({"check": "backup-*", "tag": "prod"}, LABELS)
    assert not matches({"tag": "dev"}, LABELS)
    assert not matches({"queue": "*x"}, LABELS)


def test_routing_unions_matching_routes_else_default_else_every_channel() -> None:
    pager = Route(1, (10,), frozenset({"critical"}), {"tag": "prod"})
    mail = Route(2, (11, 10), frozenset(), {"check": "backup*"})
    default = Route(3, (12,), is_default=True)
    assert route_channels([pager, mail, default], LABELS, [10, 11, 12]) == (10, 11)
    warning = Labels({"severity": "warning", "check": "other"})
    assert route_channels([pager, mail, default], warning, [10, 11, 12]) == (12,)
    assert route_channels([pager], warning, [10, 11]) == (10, 11)
    assert route_channels([], warning, []) == ()


def test_silences_apply_only_inside_their_window() -> None:
    silence = Silence(7, {"check": "backup*"}, T0, T0 + HOLD)
    assert silenced_by([silence], LABELS, T0) == 7
    assert silenced_by([silence], LABELS, T0 + HOLD) is None
    assert silenced_by([silence], LABELS, T0 - timedelta(seconds=1)) is None
    assert silenced_by([silence], Labels({"check": "other"}), T0) is None


@given(st.integers(1, 200))
def test_backoff_doubles_up_to_its_cap(attempt: int) -> None:
    base, cap = timedelta(seconds=5), timedelta(hours=1)
    delay = retry_delay(attempt, base, cap)
    assert base <= delay <= cap
    assert retry_delay(attempt + 1, base, cap) in (min(delay * 2, cap), cap)


def test_giving_up_after_the_limit_or_a_permanent_error() -> None:
    assert not gives_up(1, 3, retryable=True)
    assert gives_up(3, 3, retryable=True)
    assert gives_up(1, 3, retryable=False)
