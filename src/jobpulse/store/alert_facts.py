"""Adapters from tables to rule facts (domain.rules.Facts), one small function per fact kind.

Each takes (conn, project_id, window, now) and returns plain facts. Task, queue and worker
facts come from the tables of their own areas (see alert_task_facts).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, select

from jobpulse.domain.facts import CheckFact, ProbeFact, Subject
from jobpulse.store.alert_task_facts import queue_facts, task_windows, worker_facts
from jobpulse.store.alerts_tables import alert_probe_samples, alert_probes
from jobpulse.store.tables import checks, flips

FactGatherer = Callable[[Connection, int, timedelta, datetime], tuple[Any, ...]]


def check_subject(row: Any) -> Subject:
    label = row.name or row.slug or row.uuid
    return Subject("check", row.uuid, label, frozenset(row.tags or ()))


def down_checks(
    conn: Connection, project_id: int, window: timedelta, now: datetime
) -> tuple[CheckFact, ...]:
    """Checks that are down now, with when they went down. Checks that are not down need no
    fact: a (rule, check) the loop tracks but finds no fact for counts as "not down"."""
    went_down = (
        select(flips.c.check_id, func.max(flips.c.created_at).label("since"))
        .where(flips.c.new_status == "down")
        .group_by(flips.c.check_id)
        .subquery()
    )
    query = (
        select(checks.c.uuid, checks.c.name, checks.c.slug, checks.c.tags)
        .add_columns(checks.c.down_reason, went_down.c.since)
        .outerjoin(went_down, went_down.c.check_id == checks.c.id)
        .where(checks.c.project_id == project_id, checks.c.status == "down")
    )
    return tuple(
        CheckFact(check_subject(row), "down", row.down_reason, row.since)
        for row in conn.execute(query)
    )


def _probe_subject(row: Any) -> Subject:
    return Subject("probe", row.name, row.name, frozenset(row.tags or ()))


def probe_facts(
    conn: Connection, project_id: int, window: timedelta, now: datetime
) -> tuple[ProbeFact, ...]:
    """Each enabled probe: readiness since its deploy, its failure streak, and latencies of
    the window against the window before it."""
    found = []
    probes = conn.execute(
        select(alert_probes).where(
            alert_probes.c.project_id == project_id, alert_probes.c.enabled.is_(True)
        )
    ).all()
    for probe in probes:
        samples = conn.execute(
            select(alert_probe_samples)
            .where(
                alert_probe_samples.c.probe_id == probe.id,
                alert_probe_samples.c.at > now - 2 * window,
            )
            .order_by(alert_probe_samples.c.id.desc())
            .limit(5000)
        ).all()
        found.append(_probe_fact(probe, samples, window, now))
    return tuple(found)


def _probe_fact(probe: Any, samples: Sequence[Any], window: timedelta, now: datetime) -> ProbeFact:
    failures = 0
    down_since = None
    for sample in samples:  # newest first
        if sample.ok:
            break
        failures += 1
        down_since = sample.at
    last_error = samples[0].error if samples and not samples[0].ok else None
    ready_at = None
    if probe.deployed_at is not None:
        ok_times = [s.at for s in samples if s.ok and s.at >= probe.deployed_at]
        ready_at = min(ok_times) if ok_times else None
    latencies = [(s.at, s.latency_ms / 1000) for s in samples if s.ok and s.latency_ms is not None]
    recent = tuple(value for at, value in latencies if at > now - window)
    baseline = tuple(value for at, value in latencies if at <= now - window)
    return ProbeFact(
        subject=_probe_subject(probe),
        deployed_at=probe.deployed_at,
        first_ready_at=ready_at,
        consecutive_failures=failures,
        last_error=last_error,
        down_since=down_since,
        recent_latencies=recent,
        baseline_latencies=baseline,
    )


GATHERERS: dict[str, FactGatherer] = {
    "checks": down_checks,
    "probes": probe_facts,
    "tasks": task_windows,
    "queues": queue_facts,
    "workers": worker_facts,
}
