"""Stalled queues, gone workers and downsampling: pure rules, time injected."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from jobpulse.domain.queues import (
    DepthPoint,
    StoredSample,
    WorkerStatus,
    bucket_start,
    downsample,
    resolution_for_age,
    stall_verdict,
    worker_status,
)

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
WINDOW = timedelta(seconds=30)


def _points(*depths: int, every: int = 15, processed: list[int] | None = None) -> list[DepthPoint]:
    return [
        DepthPoint(T0 + timedelta(seconds=i * every), d, processed[i] if processed else None)
        for i, d in enumerate(depths)
    ]


def _now_after(points: list[DepthPoint]) -> datetime:
    return points[-1].at


def test_waiting_jobs_with_a_flat_depth_and_a_live_worker_are_stalled() -> None:
    points = _points(5, 5, 6)
    verdict = stall_verdict(points, _now_after(points), WINDOW, alive_workers=1)
    assert verdict.stalled


def test_a_falling_depth_is_not_stalled() -> None:
    points = _points(5, 4, 6)
    assert not stall_verdict(points, _now_after(points), WINDOW, alive_workers=1).stalled


def test_a_finished_job_in_the_window_is_progress() -> None:
    points = _points(5, 5, 5, processed=[10, 10, 11])
    verdict = stall_verdict(points, _now_after(points), WINDOW, alive_workers=1)
    assert not verdict.stalled and "finished" in verdict.reason
    last_run = T0 + timedelta(seconds=20)
    flat = _points(5, 5, 5)
    assert not stall_verdict(flat, _now_after(flat), WINDOW, 1, last_finished_at=last_run).stalled


def test_no_live_worker_means_down_not_stalled() -> None:
    points = _points(5, 5, 5)
    verdict = stall_verdict(points, _now_after(points), WINDOW, alive_workers=0)
    assert not verdict.stalled and "no live worker" in verdict.reason


def test_an_empty_queue_is_not_stalled() -> None:
    points = _points(0, 0, 0)
    assert not stall_verdict(points, _now_after(points), WINDOW, alive_workers=1).stalled


def test_samples_must_cover_the_window_before_a_verdict() -> None:
    points = _points(5, 5, every=5)
    verdict = stall_verdict(points, _now_after(points), WINDOW, alive_workers=1)
    assert not verdict.stalled and "cover" in verdict.reason


@given(st.lists(st.integers(min_value=0, max_value=1000), min_size=2, max_size=20))
def test_a_strictly_falling_queue_is_never_stalled(depths: list[int]) -> None:
    falling = sorted(set(depths), reverse=True)
    if len(falling) < 2:
        return
    points = _points(*falling)
    assert not stall_verdict(points, _now_after(points), WINDOW, alive_workers=3).stalled


def test_a_worker_is_gone_after_three_missed_heartbeats_and_not_before() -> None:
    interval = timedelta(seconds=10)
    assert worker_status(T0, T0 + timedelta(seconds=30), interval) is WorkerStatus.ALIVE
    assert worker_status(T0, T0 + timedelta(seconds=31), interval) is WorkerStatus.GONE
    assert worker_status(T0, T0, interval, online=False) is WorkerStatus.STOPPED


def test_samples_are_kept_raw_then_per_minute_then_per_hour() -> None:
    assert resolution_for_age(timedelta(days=1)) == 0
    assert resolution_for_age(timedelta(days=3)) == 60
    assert resolution_for_age(timedelta(days=31)) == 3600


@given(
    st.lists(
        st.tuples(st.integers(min_value=0, max_value=7200), st.integers(0, 10_000)),
        min_size=1,
        max_size=60,
    ),
    st.sampled_from([60, 3600]),
)
def test_downsampling_keeps_the_peak_of_every_bucket(
    readings: list[tuple[int, int]], step: int
) -> None:
    samples = [StoredSample(T0 + timedelta(seconds=s), depth) for s, depth in readings]
    summary = downsample(samples, step)
    assert max(s.depth for s in summary) == max(d for _, d in readings)
    assert len({s.at for s in summary}) == len(summary)
    assert all(s.at == bucket_start(s.at, step) for s in summary)
    assert downsample(summary, step) == summary
