"""Pieces of the collectors that need no broker: URL masking, first-seen ages, parsing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jobpulse.collectors import SourceConfig, make_collector
from jobpulse.collectors.arq import parse_health
from jobpulse.collectors.base import FirstSeen
from jobpulse.collectors.celery_redis import priority_key
from jobpulse.collectors.dramatiq import message_timestamp
from jobpulse.collectors.rq import parse_rq_time
from jobpulse.store.queue_sources import mask_url

T0 = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://:pw@h:6379/0", "redis://:***@h:6379/0"),
        ("amqp://user:pa%40ss@h:5672/vh", "amqp://user:***@h:5672/vh"),
        ("redis://token@h/0", "redis://***@h/0"),
        ("redis://h:6379/0", "redis://h:6379/0"),
    ],
)
def test_urls_are_shown_without_their_secret(url: str, shown: str) -> None:
    assert mask_url(url) == shown


def test_a_message_first_seen_as_the_newest_is_dated_from_then() -> None:
    seen = FirstSeen()
    assert seen.age("q", b"a", b"b", T0) == 0.0
    assert seen.age("q", b"a", b"c", T0 + timedelta(seconds=10)) == 10.0
    assert seen.age("q", b"b", b"c", T0 + timedelta(seconds=25)) == 25.0
    assert seen.age("q", b"c", b"c", T0 + timedelta(seconds=30)) == 20.0


def test_first_seen_memory_is_bounded() -> None:
    seen = FirstSeen(limit=3)
    for i in range(10):
        seen.observe("q", bytes([i]), T0)
    assert len(seen._seen) == 3


def test_library_formats_are_parsed() -> None:
    assert parse_rq_time("2026-03-01T00:00:01.500000Z") == T0 + timedelta(seconds=1.5)
    assert parse_rq_time(None) is None
    assert message_timestamp(b'{"message_timestamp": 1500}') == 1.5
    assert message_timestamp(b"not json") is None
    assert parse_health("Mar-01 j_complete=4 j_failed=1 j_ongoing=2 queued=0")["j_failed"] == 1
    assert priority_key("celery", 0) == "celery"
    assert priority_key("celery", 3) == "celery\x06\x163"


def test_sources_of_unknown_kinds_are_refused() -> None:
    with pytest.raises(ValueError, match="redis"):
        make_collector(SourceConfig(name="x", library="rq", url="amqp://h//"))
    with pytest.raises(ValueError, match="unknown library"):
        make_collector(SourceConfig(name="x", library="sidekiq", url="redis://h/0"))


@given(
    st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), min_size=1, max_size=40),
)
def test_first_seen_ages_never_exceed_the_truth_and_are_close_for_jobs_once_newest(
    steps: list[tuple[int, int]],
) -> None:
    """A FIFO queue sampled every 10 s; between samples some jobs arrive, some leave."""
    seen, queue, serial = FirstSeen(), [], 0
    enqueued: dict[bytes, datetime] = {}
    once_newest: set[bytes] = set()
    for index, (arrivals, departures) in enumerate(steps):
        now = T0 + timedelta(seconds=10 * index)
        for _ in range(arrivals):
            serial += 1
            job = str(serial).encode()
            queue.append(job)
            enqueued[job] = now - timedelta(seconds=5)  # between two samples
        del queue[:departures]
        oldest, newest = (queue[0], queue[-1]) if queue else (None, None)
        estimate = seen.age("q", oldest, newest, now)
        if oldest is None:
            continue
        truth = (now - enqueued[oldest]).total_seconds()
        assert estimate <= truth
        if oldest in once_newest:
            assert truth - estimate <= 5
        once_newest.add(newest)  # type: ignore[arg-type]
