"""Schedule arithmetic: simple periods, cron in a timezone, DST, tolerance."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jobpulse.domain.schedule import (
    Schedule,
    ScheduleError,
    ScheduleKind,
    cron_times_after,
    next_expected_after,
    upcoming,
)

UTC = UTC
BERLIN = ZoneInfo("Europe/Berlin")


def cron(expression: str, tz: str = "UTC", grace: int = 60) -> Schedule:
    return Schedule(ScheduleKind.CRON, cron=expression, tz=tz, grace=timedelta(seconds=grace))


def test_a_simple_schedule_expects_the_next_ping_one_period_later() -> None:
    schedule = Schedule(period=timedelta(minutes=5))
    at = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    assert next_expected_after(schedule, at, timedelta(0)) == at + timedelta(minutes=5)


def test_cron_next_time_is_in_the_checks_timezone() -> None:
    at = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
    expected = next_expected_after(cron("0 3 * * *", "Europe/Berlin"), at, timedelta(0))
    assert expected == datetime(2026, 1, 11, 3, 0, tzinfo=BERLIN)
    assert expected == datetime(2026, 1, 11, 2, 0, tzinfo=UTC)


def test_cron_across_spring_forward_in_berlin_keeps_local_wall_time() -> None:
    # 29 March 2026: clocks jump from 02:00 to 03:00 CET→CEST.
    after = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)
    times = cron_times_after("0 3 * * *", "Europe/Berlin", after, 3)
    assert [t.astimezone(BERLIN).hour for t in times] == [3, 3, 3]
    assert times[0] == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)  # 03:00 CEST
    assert times[1] - times[0] == timedelta(hours=24)


def test_cron_at_a_time_skipped_by_spring_forward_runs_once_right_after_the_jump() -> None:
    after = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)
    first, second = cron_times_after("30 2 * * *", "Europe/Berlin", after, 2)
    assert first.astimezone(BERLIN) == datetime(2026, 3, 29, 3, 0, tzinfo=BERLIN)
    assert second.astimezone(BERLIN) == datetime(2026, 3, 30, 2, 30, tzinfo=BERLIN)


def test_cron_at_a_repeated_hour_in_autumn_runs_once() -> None:
    # 25 October 2026: 02:00-03:00 happens twice in Berlin.
    after = datetime(2026, 10, 24, 12, 0, tzinfo=UTC)
    times = cron_times_after("30 2 * * *", "Europe/Berlin", after, 2)
    assert times[1] - times[0] == timedelta(hours=25)


def test_day_of_month_and_day_of_week_match_either_as_cron_does() -> None:
    # "on the 13th and on Fridays" (Vixie cron OR semantics when both are restricted)
    after = datetime(2026, 2, 1, tzinfo=UTC)
    times = cron_times_after("0 0 13 * 5", "UTC", after, 4)
    days = [(t.day, t.weekday()) for t in times]
    assert days == [(6, 4), (13, 4), (20, 4), (27, 4)]  # 13 Feb 2026 is a Friday too
    after = datetime(2026, 3, 1, tzinfo=UTC)
    assert datetime(2026, 3, 13, tzinfo=UTC) in cron_times_after("0 0 13 * 5", "UTC", after, 3)


def test_a_ping_slightly_early_counts_for_the_scheduled_run() -> None:
    schedule = cron("0 * * * *")
    early = datetime(2026, 1, 1, 2, 59, 58, tzinfo=UTC)
    expected = next_expected_after(schedule, early, timedelta(seconds=60))
    assert expected == datetime(2026, 1, 1, 4, 0, tzinfo=UTC)
    # without tolerance the early ping would leave 03:00 expected
    assert next_expected_after(schedule, early, timedelta(0)) == datetime(
        2026, 1, 1, 3, 0, tzinfo=UTC
    )


def test_a_ping_earlier_than_the_tolerance_does_not_count_for_the_next_run() -> None:
    schedule = cron("0 * * * *")
    too_early = datetime(2026, 1, 1, 2, 57, 0, tzinfo=UTC)
    expected = next_expected_after(schedule, too_early, timedelta(seconds=60))
    assert expected == datetime(2026, 1, 1, 3, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"period": timedelta(0)}, "period"),
        ({"period": timedelta(seconds=-1)}, "period"),
        ({"period": timedelta(days=400)}, "period"),
        ({"grace": timedelta(seconds=-1)}, "grace"),
        ({"max_runtime": timedelta(0)}, "max_runtime"),
        ({"kind": ScheduleKind.CRON, "cron": None}, "schedule"),
        ({"kind": ScheduleKind.CRON, "cron": "* * *"}, "schedule"),
        ({"kind": ScheduleKind.CRON, "cron": "99 * * * *"}, "schedule"),
        ({"kind": ScheduleKind.CRON, "cron": "0 3 * * *", "tz": "Nowhere/Land"}, "tz"),
    ],
)
def test_bad_schedules_name_their_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(ScheduleError) as caught:
        Schedule(**kwargs)  # type: ignore[arg-type]
    assert caught.value.field == field


def test_upcoming_previews_five_times() -> None:
    after = datetime(2026, 1, 1, tzinfo=UTC)
    assert len(upcoming(cron("*/5 * * * *"), after)) == 5
    assert upcoming(Schedule(period=timedelta(hours=1)), after, 2) == [
        after + timedelta(hours=1),
        after + timedelta(hours=2),
    ]


ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata"]
EXPRESSIONS = ["0 3 * * *", "30 2 * * *", "*/15 * * * *", "0 0 1 * *", "0 9 * * 1-5", "45 1 * * 0"]


@settings(max_examples=300, deadline=None)
@given(
    after=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2037, 1, 1), timezones=st.just(UTC)
    ),
    tz=st.sampled_from(ZONES),
    expression=st.sampled_from(EXPRESSIONS),
)
def test_cron_times_are_strictly_increasing_and_after_the_start(
    after: datetime, tz: str, expression: str
) -> None:
    times = cron_times_after(expression, tz, after, 4)
    assert times[0] > after
    assert all(a < b for a, b in itertools.pairwise(times))
    assert all(t.tzinfo is not None and t.utcoffset() == timedelta(0) for t in times)
    # The minute field is honoured in local time, DST or not, except at a spring-forward gap.
    for t in times:
        local = t.astimezone(ZoneInfo(tz))
        assert local.second == 0


@settings(max_examples=200, deadline=None)
@given(
    after=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2037, 1, 1), timezones=st.just(UTC)
    ),
    tz=st.sampled_from(ZONES),
)
def test_a_daily_cron_fires_once_per_local_day(after: datetime, tz: str) -> None:
    times = cron_times_after("15 4 * * *", tz, after, 5)
    local_days = [t.astimezone(ZoneInfo(tz)).date() for t in times]
    assert len(set(local_days)) == 5
    assert all(t.astimezone(ZoneInfo(tz)).hour in (4, 5) for t in times)
