"""Folding task events into runs: order and replays never change the result."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from jobpulse.domain.runs import EventType, RunStatus, TaskEvent, fold_all, view

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def ev(kind: EventType, seconds: float, attempt: int = 1, **fields: object) -> TaskEvent:
    return TaskEvent(
        type=kind,
        job_id="j",
        task_name="t",
        queue="q",
        ts=T0 + timedelta(seconds=seconds),
        attempt=attempt,
        **fields,  # type: ignore[arg-type]
    )


def status_of(*events: TaskEvent) -> RunStatus:
    run = fold_all(None, list(events))
    assert run is not None
    return view(run).status


def test_each_stage_of_a_run_has_its_status() -> None:
    assert status_of(ev(EventType.DEFERRED, 0)) == RunStatus.DEFERRED
    assert status_of(ev(EventType.DEFERRED, 0), ev(EventType.ENQUEUED, 5)) == RunStatus.QUEUED
    assert status_of(ev(EventType.ENQUEUED, 0), ev(EventType.STARTED, 1)) == RunStatus.IN_PROGRESS
    assert status_of(ev(EventType.STARTED, 1), ev(EventType.SUCCEEDED, 2)) == RunStatus.SUCCESS
    assert status_of(ev(EventType.ENQUEUED, 0), ev(EventType.EXPIRED, 9)) == RunStatus.EXPIRED
    assert status_of(ev(EventType.ENQUEUED, 0), ev(EventType.CANCELED, 9)) == RunStatus.CANCELED
    retried = (ev(EventType.STARTED, 1), ev(EventType.RETRIED, 2))
    assert status_of(*retried) == RunStatus.RETRYING
    assert status_of(*retried, ev(EventType.ENQUEUED, 3, attempt=2)) == RunStatus.RETRYING
    assert status_of(*retried, ev(EventType.STARTED, 4, attempt=2)) == RunStatus.IN_PROGRESS
    assert status_of(*retried, ev(EventType.FAILED, 5, attempt=2)) == RunStatus.FAILED


def test_a_success_seen_before_its_start_gives_the_right_run() -> None:
    run = fold_all(None, [ev(EventType.SUCCEEDED, 3, result=1), ev(EventType.STARTED, 1)])
    assert run is not None
    derived = view(run)
    assert derived.status == RunStatus.SUCCESS and derived.duration_ms == 2000
    assert derived.start_time == T0 + timedelta(seconds=1) and derived.result == 1


def test_retries_count_and_the_last_error_is_kept() -> None:
    run = fold_all(
        None,
        [
            ev(EventType.STARTED, 1),
            ev(EventType.RETRIED, 2, error="E: one", retry_after=3.0),
            ev(EventType.STARTED, 5, attempt=2),
            ev(EventType.FAILED, 6, attempt=2, error="E: two"),
        ],
    )
    assert run is not None
    derived = view(run)
    assert derived.job_retries == 1 and derived.job_retry_after == 3.0
    assert derived.error_message == "E: two" and derived.success is False


def test_a_success_after_retries_has_no_error() -> None:
    run = fold_all(
        None,
        [
            ev(EventType.STARTED, 1),
            ev(EventType.RETRIED, 2, error="E: one"),
            ev(EventType.STARTED, 5, attempt=2),
            ev(EventType.SUCCEEDED, 6, attempt=2),
        ],
    )
    assert run is not None
    assert view(run).error_message is None and view(run).success is True


_KINDS = st.sampled_from(list(EventType))


@st.composite
def histories(draw: st.DrawFn) -> list[TaskEvent]:
    count = draw(st.integers(1, 12))
    events = []
    for _ in range(count):
        events.append(
            ev(
                draw(_KINDS),
                draw(st.integers(0, 1000)),
                attempt=draw(st.integers(1, 3)),
                worker_id="w",
                error="E: x",
                result={"ok": True},
            )
        )
    # One event per (type, attempt): the API de-duplicates by that key before folding.
    unique = {e.key: e for e in events}
    return list(unique.values())


@settings(max_examples=300, deadline=None)
@given(histories(), st.randoms(use_true_random=False), st.integers(0, 3))
def test_the_fold_ignores_order_and_replays(
    events: list[TaskEvent], rnd: st.SearchStrategy[object], cut: int
) -> None:
    shuffled = list(events)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    replayed = shuffled + shuffled[: cut % (len(shuffled) + 1)]
    in_order = fold_all(None, events)
    # Folding in two steps (as two batches would) must agree too.
    middle = len(replayed) // 2
    in_two = fold_all(fold_all(None, replayed[:middle]), replayed[middle:])
    assert in_order is not None and in_two is not None
    assert view(in_two) == view(in_order)
    assert in_two == in_order
