"""Alert rules: which subjects (checks, tasks, queues, workers, probes) are in trouble now.

Pure: a rule and the facts gathered for it go in, one verdict per subject in scope comes out.
How long a verdict must hold before an incident opens or closes is `domain.incidents`' job.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from fnmatch import fnmatchcase
from typing import Any

from jobpulse.domain.facts import (
    CheckFact,
    Facts,
    ProbeFact,
    QueueFact,
    Subject,
    TaskWindow,
    WorkerFact,
)


class Severity(StrEnum):
    CRITICAL = "critical"
    WARNING = "warning"
    INFO = "info"


class ScopeKind(StrEnum):
    ALL = "all"
    TAG = "tag"
    TASK = "task"
    QUEUE = "queue"
    CHECK = "check"
    PROBE = "probe"


class RuleKind(StrEnum):
    CHECK_DOWN = "check_down"
    TASK_FAILURE_RATE = "task_failure_rate"
    STUCK_TASKS = "stuck_tasks"
    QUEUE_BACKLOG = "queue_backlog"
    OLDEST_JOB_AGE = "oldest_job_age"
    SLOW_TASKS = "slow_tasks"
    RETRY_STORM = "retry_storm"
    WORKER_GONE = "worker_gone"
    QUEUE_STALLED = "queue_stalled"
    NO_THROUGHPUT = "no_throughput"
    DURATION_ANOMALY = "duration_anomaly"
    PROBE_NEVER_READY = "probe_never_ready"
    PROBE_DOWN = "probe_down"
    PROBE_SLOW = "probe_slow"


class RuleError(ValueError):
    """A rule field holds a value that cannot work; `field` names it."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class Scope:
    kind: ScopeKind = ScopeKind.ALL
    value: str | None = None  # a glob (fnmatch) on the tag, task, queue, check or probe

    def covers(self, subject: Subject) -> bool:
        if self.kind == ScopeKind.ALL:
            return True
        pattern = self.value or "*"
        if self.kind == ScopeKind.TAG:
            return any(fnmatchcase(tag, pattern) for tag in subject.tags)
        if self.kind == ScopeKind.QUEUE and subject.queue is not None:
            return fnmatchcase(subject.queue, pattern)
        if subject.kind != self.kind.value:
            return False
        return fnmatchcase(subject.name, pattern) or fnmatchcase(subject.label, pattern)


@dataclass(frozen=True)
class Rule:
    id: int
    name: str
    kind: RuleKind
    severity: Severity = Severity.CRITICAL
    scope: Scope = field(default_factory=Scope)
    params: Mapping[str, float] = field(default_factory=dict)
    window: timedelta = timedelta(hours=1)  # how far back task and queue facts look
    hold_fire: timedelta = timedelta(0)  # flap damping: true this long before it fires
    hold_clear: timedelta = timedelta(0)  # ... and false this long before it clears
    repeat_every: timedelta | None = None  # re-notify unacknowledged critical incidents


@dataclass(frozen=True)
class Verdict:
    subject: Subject
    firing: bool
    summary: str
    since: datetime | None = None  # when the condition began, when the facts know it


# --- parameters ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Param:
    default: float | None  # None: required
    minimum: float = 0.0
    maximum: float = math.inf


PARAMS: dict[RuleKind, dict[str, Param]] = {
    RuleKind.CHECK_DOWN: {},
    RuleKind.TASK_FAILURE_RATE: {"threshold": Param(0.5, 0, 1), "min_samples": Param(10, 1)},
    RuleKind.STUCK_TASKS: {"max_runtime": Param(None, 1)},
    RuleKind.QUEUE_BACKLOG: {"max_depth": Param(None, 0)},
    RuleKind.OLDEST_JOB_AGE: {"max_age": Param(None, 1)},
    RuleKind.SLOW_TASKS: {"max_duration": Param(None, 0), "use_p95": Param(1, 0, 1)},
    RuleKind.RETRY_STORM: {"max_avg_retries": Param(None, 0), "min_samples": Param(5, 1)},
    RuleKind.WORKER_GONE: {"max_silence": Param(120, 1)},
    RuleKind.QUEUE_STALLED: {},
    RuleKind.NO_THROUGHPUT: {"min_per_hour": Param(1, 0)},
    RuleKind.DURATION_ANOMALY: {"factor": Param(2, 1), "min_history": Param(30, 10)},
    RuleKind.PROBE_NEVER_READY: {"ready_within": Param(300, 1)},
    RuleKind.PROBE_DOWN: {"failures": Param(3, 1)},
    RuleKind.PROBE_SLOW: {"factor": Param(2, 1), "min_samples": Param(5, 1)},
}


def validate_params(kind: RuleKind, given: Mapping[str, Any]) -> dict[str, float]:
    """Known parameters with defaults filled in; RuleError names the first bad one."""
    specs = PARAMS[kind]
    for name in given:
        if name not in specs:
            known = ", ".join(sorted(specs)) or "none"
            raise RuleError(f"params.{name}", f"unknown for {kind.value} (known: {known})")
    clean: dict[str, float] = {}
    for name, spec in specs.items():
        value = given.get(name, spec.default)
        if value is None:
            raise RuleError(f"params.{name}", "required")
        if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
            raise RuleError(f"params.{name}", "must be a number")
        if not spec.minimum <= value <= spec.maximum:
            raise RuleError(f"params.{name}", f"must be within {spec.minimum}..{spec.maximum}")
        clean[name] = float(value)
    return clean


# --- statistics ---------------------------------------------------------------------------


def percentile(values: tuple[float, ...], q: float) -> float:
    """The q-th percentile (0..100) by linear interpolation; values need not be sorted."""
    if not values:
        raise ValueError("percentile of no values")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def _seconds(value: float) -> str:
    if value >= 3600:
        return f"{value / 3600:.1f} h"
    if value >= 60:
        return f"{value / 60:.1f} min"
    return f"{value:.1f} s"


# --- conditions, one per rule kind --------------------------------------------------------

Condition = Callable[[Rule, Any, datetime], tuple[bool, str, datetime | None]]


def _check_down(rule: Rule, fact: CheckFact, now: datetime) -> tuple[bool, str, datetime | None]:
    if fact.status == "down":
        reason = fact.down_reason or "down"
        return True, f"{fact.subject.label} is down ({reason})", fact.since
    return False, f"{fact.subject.label} is {fact.status}", None


def _failure_rate(rule: Rule, fact: TaskWindow, now: datetime) -> tuple[bool, str, None]:
    threshold, min_samples = rule.params["threshold"], rule.params["min_samples"]
    rate = fact.failed / fact.finished if fact.finished else 0.0
    firing = fact.finished >= min_samples and rate >= threshold
    text = f"{fact.subject.label}: {fact.failed} of {fact.finished} runs failed ({rate:.0%})"
    return firing, f"{text}, threshold {threshold:.0%}", None


def _stuck(rule: Rule, fact: TaskWindow, now: datetime) -> tuple[bool, str, datetime | None]:
    limit = timedelta(seconds=rule.params["max_runtime"])
    stuck = [started for started in fact.running_since if now - started > limit]
    if not stuck:
        return (
            False,
            f"{fact.subject.label}: no run in progress over {_seconds(limit.total_seconds())}",
            None,
        )
    oldest = min(stuck)
    age = _seconds((now - oldest).total_seconds())
    return True, f"{fact.subject.label}: {len(stuck)} run(s) in progress, oldest for {age}", None


def _slow(rule: Rule, fact: TaskWindow, now: datetime) -> tuple[bool, str, None]:
    if not fact.durations:
        return False, f"{fact.subject.label}: no finished runs in the window", None
    use_p95 = rule.params["use_p95"] >= 0.5
    value = percentile(fact.durations, 95) if use_p95 else sum(fact.durations) / len(fact.durations)
    limit = rule.params["max_duration"]
    name = "p95" if use_p95 else "average"
    text = f"{fact.subject.label}: {name} duration {_seconds(value)} (limit {_seconds(limit)})"
    return value > limit, text, None


def _retry_storm(rule: Rule, fact: TaskWindow, now: datetime) -> tuple[bool, str, None]:
    if len(fact.retries) < rule.params["min_samples"]:
        return False, f"{fact.subject.label}: too few runs to judge retries", None
    average = sum(fact.retries) / len(fact.retries)
    limit = rule.params["max_avg_retries"]
    text = f"{fact.subject.label}: {average:.1f} retries per run on average (limit {limit:g})"
    return average > limit, text, None


def _no_throughput(rule: Rule, fact: TaskWindow, now: datetime) -> tuple[bool, str, None]:
    usual = fact.baseline_per_hour or 0.0
    ran = fact.finished + len(fact.running_since)
    firing = ran == 0 and usual >= rule.params["min_per_hour"] and usual > 0
    text = f"{fact.subject.label}: {ran} runs in the window, usually {usual:.1f} per hour"
    return firing, text, None


def _anomaly(rule: Rule, fact: TaskWindow, now: datetime) -> tuple[bool, str, None]:
    if len(fact.history_durations) < rule.params["min_history"] or not fact.durations:
        return False, f"{fact.subject.label}: not enough history for a baseline", None
    limit = percentile(fact.history_durations, 99) * rule.params["factor"]
    longest = max(fact.durations)
    text = (
        f"{fact.subject.label}: a run took {_seconds(longest)}, "
        f"over {rule.params['factor']:g} x its p99 ({_seconds(limit)})"
    )
    return longest > limit, text, None


def _backlog(rule: Rule, fact: QueueFact, now: datetime) -> tuple[bool, str, None]:
    limit = rule.params["max_depth"]
    return (
        fact.depth > limit,
        f"{fact.subject.label}: {fact.depth} jobs waiting (limit {limit:g})",
        None,
    )


def _oldest_age(rule: Rule, fact: QueueFact, now: datetime) -> tuple[bool, str, None]:
    if fact.oldest_enqueued_at is None:
        return False, f"{fact.subject.label}: empty", None
    age = (now - fact.oldest_enqueued_at).total_seconds()
    limit = rule.params["max_age"]
    text = f"{fact.subject.label}: oldest job waiting {_seconds(age)} (limit {_seconds(limit)})"
    return age > limit, text, None


def _stalled(rule: Rule, fact: QueueFact, now: datetime) -> tuple[bool, str, None]:
    stalled = fact.depth > 0 and fact.processed_in_window == 0
    text = f"{fact.subject.label}: {fact.depth} jobs waiting, {fact.processed_in_window} processed"
    return stalled, text, None


def _worker_gone(rule: Rule, fact: WorkerFact, now: datetime) -> tuple[bool, str, datetime]:
    silence = (now - fact.last_seen_at).total_seconds()
    gone = silence > rule.params["max_silence"]
    return gone, f"{fact.subject.label}: last seen {_seconds(silence)} ago", fact.last_seen_at


def _never_ready(rule: Rule, fact: ProbeFact, now: datetime) -> tuple[bool, str, None]:
    if fact.deployed_at is None or fact.first_ready_at is not None:
        return False, f"{fact.subject.label}: ready", None
    waited = (now - fact.deployed_at).total_seconds()
    text = f"{fact.subject.label}: not ready {_seconds(waited)} after the deploy"
    return waited > rule.params["ready_within"], text, None


def _probe_down(rule: Rule, fact: ProbeFact, now: datetime) -> tuple[bool, str, datetime | None]:
    firing = fact.consecutive_failures >= rule.params["failures"]
    text = f"{fact.subject.label}: {fact.consecutive_failures} failed polls ({fact.last_error})"
    return firing, text, fact.down_since


def _probe_slow(rule: Rule, fact: ProbeFact, now: datetime) -> tuple[bool, str, None]:
    enough = rule.params["min_samples"]
    if len(fact.recent_latencies) < enough or len(fact.baseline_latencies) < enough:
        return False, f"{fact.subject.label}: not enough latency samples", None
    recent = percentile(fact.recent_latencies, 50)
    baseline = percentile(fact.baseline_latencies, 50)
    factor = rule.params["factor"]
    text = (
        f"{fact.subject.label}: median latency {recent * 1000:.0f} ms, "
        f"baseline {baseline * 1000:.0f} ms (limit x {factor:g})"
    )
    return recent > baseline * factor, text, None


_CONDITIONS: dict[RuleKind, tuple[str, Condition]] = {
    RuleKind.CHECK_DOWN: ("checks", _check_down),
    RuleKind.TASK_FAILURE_RATE: ("tasks", _failure_rate),
    RuleKind.STUCK_TASKS: ("tasks", _stuck),
    RuleKind.SLOW_TASKS: ("tasks", _slow),
    RuleKind.RETRY_STORM: ("tasks", _retry_storm),
    RuleKind.NO_THROUGHPUT: ("tasks", _no_throughput),
    RuleKind.DURATION_ANOMALY: ("tasks", _anomaly),
    RuleKind.QUEUE_BACKLOG: ("queues", _backlog),
    RuleKind.OLDEST_JOB_AGE: ("queues", _oldest_age),
    RuleKind.QUEUE_STALLED: ("queues", _stalled),
    RuleKind.WORKER_GONE: ("workers", _worker_gone),
    RuleKind.PROBE_NEVER_READY: ("probes", _never_ready),
    RuleKind.PROBE_DOWN: ("probes", _probe_down),
    RuleKind.PROBE_SLOW: ("probes", _probe_slow),
}


def fact_kind(kind: RuleKind) -> str:
    """Which field of Facts a rule of this kind reads: checks, tasks, queues, workers, probes."""
    return _CONDITIONS[kind][0]


def evaluate_rule(rule: Rule, facts: Facts, now: datetime) -> list[Verdict]:
    """One verdict per subject of the rule's fact kind that its scope covers."""
    attribute, condition = _CONDITIONS[rule.kind]
    verdicts = []
    for fact in getattr(facts, attribute):
        if rule.scope.covers(fact.subject):
            firing, summary, since = condition(rule, fact, now)
            verdicts.append(Verdict(fact.subject, firing, summary, since))
    return verdicts
