"""Alert rules over plain facts: each kind fires and stays quiet where it should."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jobpulse.domain.facts import (
    CheckFact,
    Facts,
    ProbeFact,
    QueueFact,
    Subject,
    TaskWindow,
    WorkerFact,
)
from jobpulse.domain.rules import (
    PARAMS,
    Rule,
    RuleError,
    RuleKind,
    Scope,
    ScopeKind,
    evaluate_rule,
    percentile,
    validate_params,
)

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
TASK = Subject("task", "charge", "charge", frozenset({"billing"}), queue="payments")
QUEUE = Subject("queue", "redis:payments", "payments", queue="payments")


def rule(kind: RuleKind, scope: Scope | None = None, **params: float) -> Rule:
    return Rule(1, "r", kind, scope=scope or Scope(), params=validate_params(kind, params))


def firing(kind: RuleKind, facts: Facts, scope: Scope | None = None, **params: float) -> list[bool]:
    return [v.firing for v in evaluate_rule(rule(kind, scope, **params), facts, NOW)]


def test_a_down_check_fires_with_its_reason_and_since() -> None:
    subject = Subject("check", "uuid-1", "backup")
    down = CheckFact(subject, "down", "missed", NOW - timedelta(minutes=3))
    (verdict,) = evaluate_rule(rule(RuleKind.CHECK_DOWN), Facts(checks=(down,)), NOW)
    assert verdict.firing and "missed" in verdict.summary and verdict.since == down.since
    up = CheckFact(subject, "up")
    assert firing(RuleKind.CHECK_DOWN, Facts(checks=(up,))) == [False]


def test_failure_rate_needs_its_minimum_sample() -> None:
    few = TaskWindow(TASK, finished=3, failed=3)
    many = TaskWindow(TASK, finished=10, failed=3)
    kind = RuleKind.TASK_FAILURE_RATE
    assert firing(kind, Facts(tasks=(few,)), threshold=0.2, min_samples=5) == [False]
    assert firing(kind, Facts(tasks=(many,)), threshold=0.2, min_samples=5) == [True]
    assert firing(kind, Facts(tasks=(many,)), threshold=0.5, min_samples=5) == [False]


def test_stuck_tasks_fire_on_a_run_older_than_the_limit() -> None:
    young = TaskWindow(TASK, running_since=(NOW - timedelta(minutes=5),))
    old = TaskWindow(TASK, running_since=(NOW - timedelta(minutes=5), NOW - timedelta(hours=2)))
    assert firing(RuleKind.STUCK_TASKS, Facts(tasks=(young, old)), max_runtime=3600) == [
        False,
        True,
    ]


def test_slow_tasks_use_p95_or_average() -> None:
    window = TaskWindow(TASK, durations=(1.0,) * 90 + (100.0,) * 10)
    assert firing(RuleKind.SLOW_TASKS, Facts(tasks=(window,)), max_duration=50) == [True]
    average = firing(RuleKind.SLOW_TASKS, Facts(tasks=(window,)), max_duration=50, use_p95=0)
    assert average == [False]
    assert firing(RuleKind.SLOW_TASKS, Facts(tasks=(TaskWindow(TASK),)), max_duration=1) == [False]


def test_retry_storm_and_no_throughput() -> None:
    storm = TaskWindow(TASK, retries=(3, 4, 5, 2, 6))
    assert firing(RuleKind.RETRY_STORM, Facts(tasks=(storm,)), max_avg_retries=2) == [True]
    quiet = TaskWindow(TASK, baseline_per_hour=12)
    usual = TaskWindow(TASK, finished=1, baseline_per_hour=12)
    rare = TaskWindow(TASK, baseline_per_hour=0.1)
    facts = Facts(tasks=(quiet, usual, rare))
    assert firing(RuleKind.NO_THROUGHPUT, facts, min_per_hour=1) == [True, False, False]


def test_duration_anomaly_waits_for_history_then_compares_with_p99() -> None:
    history = tuple(float(10 + i % 5) for i in range(100))
    short = TaskWindow(TASK, durations=(100.0,), history_durations=history[:5])
    normal = TaskWindow(TASK, durations=(20.0,), history_durations=history)
    slow = TaskWindow(TASK, durations=(40.0,), history_durations=history)
    facts = Facts(tasks=(short, normal, slow))
    assert firing(RuleKind.DURATION_ANOMALY, facts, factor=2) == [False, False, True]


def test_queue_rules() -> None:
    deep = QueueFact(
        QUEUE, depth=500, oldest_enqueued_at=NOW - timedelta(hours=1), processed_in_window=0
    )
    empty = QueueFact(QUEUE, depth=0, processed_in_window=0)
    facts = Facts(queues=(deep, empty))
    assert firing(RuleKind.QUEUE_BACKLOG, facts, max_depth=100) == [True, False]
    assert firing(RuleKind.OLDEST_JOB_AGE, facts, max_age=600) == [True, False]
    assert firing(RuleKind.QUEUE_STALLED, facts) == [True, False]


def test_worker_gone_after_its_silence() -> None:
    worker = Subject("worker", "sdk:w1", "w1")
    recent = WorkerFact(worker, NOW - timedelta(seconds=30))
    silent = WorkerFact(worker, NOW - timedelta(minutes=10))
    assert firing(RuleKind.WORKER_GONE, Facts(workers=(recent, silent)), max_silence=120) == [
        False,
        True,
    ]


def test_probe_rules() -> None:
    probe = Subject("probe", "api", "api")
    never = ProbeFact(probe, deployed_at=NOW - timedelta(minutes=10))
    ready = ProbeFact(probe, deployed_at=NOW - timedelta(minutes=10), first_ready_at=NOW)
    down = ProbeFact(probe, consecutive_failures=3, last_error="HTTP 503")
    slow = ProbeFact(probe, recent_latencies=(0.5,) * 5, baseline_latencies=(0.1,) * 5)
    facts = Facts(probes=(never, ready, down, slow))
    assert firing(RuleKind.PROBE_NEVER_READY, facts, ready_within=300) == [
        True,
        False,
        False,
        False,
    ]
    assert firing(RuleKind.PROBE_DOWN, facts, failures=3) == [False, False, True, False]
    assert firing(RuleKind.PROBE_SLOW, facts, factor=2) == [False, False, False, True]


@pytest.mark.parametrize(
    ("scope", "covered"),
    [
        (Scope(), True),
        (Scope(ScopeKind.TAG, "bill*"), True),
        (Scope(ScopeKind.TAG, "ops"), False),
        (Scope(ScopeKind.TASK, "charge"), True),
        (Scope(ScopeKind.TASK, "refund"), False),
        (Scope(ScopeKind.QUEUE, "payments"), True),
        (Scope(ScopeKind.CHECK, "charge"), False),
    ],
)
def test_scope_covers_subjects_by_tag_task_queue_or_check(scope: Scope, covered: bool) -> None:
    assert scope.covers(TASK) is covered


def test_params_are_validated_with_the_field_named() -> None:
    with pytest.raises(RuleError) as missing:
        validate_params(RuleKind.QUEUE_BACKLOG, {})
    assert missing.value.field == "params.max_depth"
    with pytest.raises(RuleError) as unknown:
        validate_params(RuleKind.CHECK_DOWN, {"x": 1})
    assert unknown.value.field == "params.x"
    with pytest.raises(RuleError):
        validate_params(RuleKind.TASK_FAILURE_RATE, {"threshold": 1.5})
    with pytest.raises(RuleError):
        validate_params(RuleKind.TASK_FAILURE_RATE, {"threshold": True})
    assert set(PARAMS) == set(RuleKind)


@given(st.lists(st.floats(min_value=0, max_value=1e6), min_size=1, max_size=200))
def test_percentiles_lie_within_the_values_and_grow_with_q(values: list[float]) -> None:
    data = tuple(values)
    p50, p95, p99 = (percentile(data, q) for q in (50, 95, 99))
    assert min(data) <= p50 <= p95 <= p99 <= max(data)
    assert percentile(data, 0) == min(data) and percentile(data, 100) == max(data)
