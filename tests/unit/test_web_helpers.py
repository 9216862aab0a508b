"""Pure pieces of the dashboard: formatting, badges, SVG charts, filters, forms, tracebacks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jobpulse.domain.runs import RunStatus
from jobpulse.web import charts, check_forms, formatting, task_filters
from jobpulse.web.throttle import LoginThrottle
from jobpulse.web.traceback_view import error_type, highlight

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("seconds", "tone"),
    [
        (0.2, "ok"),
        (0.999, "ok"),
        (1, "info"),
        (4.9, "info"),
        (5, "warn"),
        (29.9, "warn"),
        (30, "bad"),
        (None, "muted"),
    ],
)
def test_duration_badges_follow_the_seeds_thresholds(seconds: float | None, tone: str) -> None:
    assert formatting.duration_tone(seconds) == tone


@pytest.mark.parametrize(("retries", "tone"), [(0, "muted"), (1, "warn"), (2, "warn"), (3, "bad")])
def test_retry_counts_warn_then_alarm(retries: int, tone: str) -> None:
    assert formatting.retries_tone(retries) == tone


def test_a_queue_keeps_its_colour_everywhere() -> None:
    assert formatting.queue_tone("emails") == formatting.queue_tone("emails")
    assert formatting.queue_tone("emails") in formatting.QUEUE_TONES
    assert formatting.queue_tone(None) == "muted"


@pytest.mark.parametrize(
    ("ms", "text"), [(None, "\u2013"), (850, "850 ms"), (2300, "2.3 s"), (65_000, "1 min 5 s")]
)
def test_durations_read_naturally(ms: float | None, text: str) -> None:
    assert formatting.duration(ms) == text


def test_times_read_relative_to_now() -> None:
    assert formatting.ago(None, NOW) == "never"
    assert formatting.ago(NOW - timedelta(seconds=2), NOW) == "just now"
    assert formatting.ago(NOW - timedelta(minutes=5), NOW) == "5 min ago"
    assert formatting.ago(NOW + timedelta(hours=3, minutes=2), NOW) == "in 3 h"


@given(st.floats(min_value=1, max_value=10**8))
def test_a_span_uses_at_most_two_units_largest_first(seconds: float) -> None:
    words = formatting.span(seconds).split()
    assert 2 <= len(words) <= 4
    units = [words[i + 1] for i in range(0, len(words), 2)]
    order = ["d", "h", "min", "s"]
    assert [order.index(u) for u in units] == sorted(order.index(u) for u in units)


def test_clock_shows_the_checks_timezone_with_daylight_saving() -> None:
    summer = datetime(2026, 7, 1, 1, 0, tzinfo=UTC)
    assert formatting.clock(summer, "Europe/Paris").endswith("03:00:00 CEST")
    assert formatting.clock(NOW, "Europe/Paris").endswith("13:00:00 CET")


def test_a_sparkline_needs_two_values_and_scales_to_its_box() -> None:
    assert "<svg" not in charts.sparkline([5.0])
    svg = charts.sparkline([1.0, None, 3.0, 2.0])
    assert svg.startswith("<svg") and 'viewBox="0 0 100 24"' in svg
    assert svg.count(",") == 3 + 5  # three line points, five polygon points


def test_bar_charts_escape_their_tooltips_and_keep_few_bars_readable() -> None:
    svg = charts.bar_chart([charts.Bar(2.0, "bad", "<script>")], "d", slots=10)
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert 'viewBox="0 0 100 100"' in svg and 'x="91.5"' in svg


def test_stacked_bars_stack_their_parts() -> None:
    svg = charts.stacked_chart(
        [[charts.Bar(3, "ok"), charts.Bar(1, "bad")], [charts.Bar(0, "ok")]], "runs"
    )
    assert svg.count("<rect") == 2 and 'class="tone-bad"' in svg


def test_a_line_chart_leaves_gaps_where_there_is_no_value() -> None:
    svg = charts.line_chart([100, None, 50, 75], "rate")
    assert svg.count("<polyline") == 2


def test_band_segments_cover_the_window_in_order() -> None:
    start, end = NOW - timedelta(hours=10), NOW
    changes = [
        (start - timedelta(hours=1), "up"),
        (NOW - timedelta(hours=5), "down"),
        (NOW - timedelta(hours=1), "up"),
    ]
    segments = charts.band_segments(changes, start, end, formatting.CHECK_TONES)
    assert [s.tone for s in segments] == ["ok", "bad", "ok"]
    assert segments[0].start == 0 and segments[-1].end == 1
    assert segments[1].start == pytest.approx(0.5) and segments[1].end == pytest.approx(0.9)


def test_task_filters_read_the_apis_names_and_drop_bad_values() -> None:
    query = task_filters.parse(
        {
            "status": "failed",
            "queue_name_in": "a, b",
            "duration_min": "250",
            "job_retries_max": "x",
            "created_after": "2026-01-02T03:04",
            "is_failed": "true",
            "ordering": "-duration_ms",
            "page": "3",
        }
    )
    assert query.where.status is RunStatus.FAILED
    assert query.where.queue_name_in == ("a", "b")
    assert query.where.duration_min == 250
    assert query.where.created_after == datetime(2026, 1, 2, 3, 4, tzinfo=UTC)
    assert query.where.is_failed is True
    assert query.where.job_retries_max is None and "job_retries_max" in query.errors
    assert (query.ordering, query.page) == ("-duration_ms", 3)
    assert query.uses_more_filters


def test_task_sorting_starts_descending_then_reverses_and_keeps_filters() -> None:
    query = task_filters.parse({"status": "failed", "page": "4"})
    assert query.sort_url("duration_ms") == "?status=failed&ordering=-duration_ms"
    reversed_query = task_filters.parse({"ordering": "-duration_ms"})
    assert reversed_query.sort_url("duration_ms") == "?ordering=duration_ms"
    assert task_filters.parse({"ordering": "password"}).ordering == "-created_at"


def test_the_check_form_turns_units_into_seconds_and_back() -> None:
    form, fields = check_forms.parse(
        {
            "name": "backup",
            "tags": "prod, db  nightly",
            "kind": "simple",
            "period_value": "2",
            "period_unit": "h",
            "grace_value": "15",
            "grace_unit": "min",
        }
    )
    assert not form.errors
    assert fields["period"] == 7200 and fields["grace"] == 900 and fields["max_runtime"] is None
    assert fields["tags"] == ["prod", "db", "nightly"]
    assert check_forms.best_unit(7200) == ("2", "h") and check_forms.best_unit(90) == ("90", "s")


@pytest.mark.parametrize(
    ("posted", "field"),
    [
        ({"kind": "cron", "schedule": "not cron", "tz": "UTC"}, "schedule"),
        ({"kind": "cron", "schedule": "0 3 * * *", "tz": "Mars/Base"}, "tz"),
        ({"kind": "simple", "period_value": "soon"}, "period"),
        ({"kind": "simple", "slug": "bad slug!"}, "slug"),
    ],
)
def test_the_check_form_names_the_field_that_is_wrong(posted: dict[str, str], field: str) -> None:
    base = {
        "name": "x",
        "period_value": "1",
        "period_unit": "d",
        "grace_value": "1",
        "grace_unit": "h",
    }
    form, _ = check_forms.parse({**base, **posted})
    assert field in form.errors


def test_a_traceback_is_split_into_files_code_and_the_error() -> None:
    lines = highlight(
        'Traceback (most recent call last):\n  File "app.py", line 3, in run\n    charge()\n'
        "billing.CardDeclined: no funds\n"
    )
    assert [line.kind for line in lines] == ["plain", "file", "code", "error"]
    assert error_type(lines) == "billing.CardDeclined"
    assert highlight(None) == [] and error_type([]) == ""


@pytest.mark.parametrize(
    ("counts", "incidents", "text"),
    [
        ({"down": 0, "late": 0}, 0, "All systems normal"),
        ({"down": 1, "late": 0}, 0, "1 check down"),
        ({"down": 2, "late": 1}, 1, "2 checks down, 1 late, 1 open incident"),
        ({"down": 0, "late": 3}, 2, "3 checks late, 2 open incidents"),
    ],
)
def test_the_overview_headline_says_what_is_wrong(
    counts: dict[str, int], incidents: int, text: str
) -> None:
    assert formatting.headline(counts, incidents) == text


def test_sign_in_throttle_blocks_a_pair_after_repeated_failures_then_forgets() -> None:
    now = [1000.0]
    throttle = LoginThrottle(max_failures=3, window_seconds=60, clock=lambda: now[0])
    for _ in range(3):
        assert throttle.retry_after("a@b.c", "10.0.0.1") == 0
        throttle.failed("a@b.c", "10.0.0.1")
    assert throttle.retry_after("a@b.c", "10.0.0.1") == 60
    assert throttle.retry_after("a@b.c", "10.0.0.2") == 0  # another address is not blocked
    now[0] += 61
    assert throttle.retry_after("a@b.c", "10.0.0.1") == 0
    throttle.failed("a@b.c", "10.0.0.1")
    throttle.succeeded("a@b.c", "10.0.0.1")
    assert throttle.retry_after("a@b.c", "10.0.0.1") == 0
