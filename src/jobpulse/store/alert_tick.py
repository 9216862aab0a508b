"""One pass of the alert loop, inside one writer transaction.

Rules are evaluated over freshly gathered facts; each (rule, subject) tracker steps through
flap damping; incidents open or resolve; and the outbox rows announcing them are inserted in
the same transaction, so a notice exists if and only if its incident change does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, RowMapping, delete, insert, select, update

from jobpulse.domain.facts import Facts, Subject
from jobpulse.domain.incidents import Action, Tracker, repeat_due, step
from jobpulse.domain.rules import (
    Rule,
    RuleKind,
    Scope,
    ScopeKind,
    Severity,
    Verdict,
    evaluate_rule,
    fact_kind,
)
from jobpulse.store.alert_facts import GATHERERS
from jobpulse.store.alerts_tables import alert_rules, alert_trackers, incidents
from jobpulse.store.outbox import Routing, enqueue_notice, load_routing
from jobpulse.store.tables import projects

BUILTIN_CHECK_RULE = "check down"
FactKey = tuple[int, str, timedelta]  # project, fact kind, window


@dataclass(frozen=True)
class TickRequest:
    now: datetime
    base_url: str
    # Facts gathered beforehand on a reading connection, so the writer's transaction (which
    # every ping waits on) does not include the heavier task and queue queries.
    facts: dict[FactKey, tuple[Any, ...]] = field(default_factory=dict)


@dataclass
class TickResult:
    opened: list[int] = field(default_factory=list)
    resolved: list[int] = field(default_factory=list)
    repeated: list[int] = field(default_factory=list)


def rule_of(row: Any) -> Rule:
    return Rule(
        id=row.id,
        name=row.name,
        kind=RuleKind(row.kind),
        severity=Severity(row.severity),
        scope=Scope(ScopeKind(row.scope_kind), row.scope_value),
        params=row.params or {},
        window=timedelta(seconds=row.window_s),
        hold_fire=timedelta(seconds=row.hold_fire_s),
        hold_clear=timedelta(seconds=row.hold_clear_s),
        repeat_every=timedelta(seconds=row.repeat_s) if row.repeat_s else None,
    )


def builtin_rule_values(project_id: int, now: datetime) -> dict[str, Any]:
    return {
        "project_id": project_id,
        "name": BUILTIN_CHECK_RULE,
        "kind": RuleKind.CHECK_DOWN.value,
        "severity": Severity.CRITICAL.value,
        "scope_kind": ScopeKind.ALL.value,
        "scope_value": None,
        "params": {},
        "window_s": 3600.0,
        "hold_fire_s": 0.0,
        "hold_clear_s": 0.0,
        "repeat_s": None,
        "enabled": True,
        "builtin": True,
        "created_at": now,
        "updated_at": now,
    }


def ensure_builtin_rules(conn: Connection, now: datetime) -> None:
    """Every project has its built-in "check down" rule (editable, never deleted)."""
    have = select(alert_rules.c.project_id).where(alert_rules.c.builtin.is_(True))
    missing = conn.execute(select(projects.c.id).where(projects.c.id.not_in(have))).scalars()
    for project_id in missing:
        conn.execute(insert(alert_rules).values(builtin_rule_values(project_id, now)))


def _labels(rule: Rule, subject: Subject) -> dict[str, Any]:
    values = {
        "severity": rule.severity.value,
        "rule": rule.name,
        "rule_kind": rule.kind.value,
        "subject_kind": subject.kind,
        "subject": subject.label,
        subject.kind: subject.label,
    }
    if subject.queue:
        values["queue"] = subject.queue
    return {"values": values, "tags": sorted(subject.tags)}


class _Pass:
    """The state of one tick: facts and routing loaded once per project, then reused."""

    def __init__(self, conn: Connection, request: TickRequest) -> None:
        self.conn = conn
        self.now = request.now
        self.base_url = request.base_url
        self.result = TickResult()
        self._facts: dict[FactKey, tuple[Any, ...]] = dict(request.facts)
        self._routing: dict[int, Routing] = {}

    def facts(self, project_id: int, rule: Rule) -> Facts:
        kind = fact_kind(rule.kind)
        key = (project_id, kind, rule.window)
        if key not in self._facts:
            self._facts[key] = GATHERERS[kind](self.conn, project_id, rule.window, self.now)
        return Facts(**{kind: self._facts[key]})

    def routing(self, project_id: int) -> Routing:
        if project_id not in self._routing:
            self._routing[project_id] = load_routing(self.conn, project_id, self.now)
        return self._routing[project_id]

    def notify(self, incident: RowMapping, kind: str) -> None:
        routing = self.routing(incident["project_id"])
        enqueue_notice(self.conn, incident, kind, routing, self.now, self.base_url)

    def run_rule(self, project_id: int, rule: Rule) -> None:
        trackers = {
            row.subject_key: row
            for row in self.conn.execute(
                select(alert_trackers).where(alert_trackers.c.rule_id == rule.id)
            )
        }
        seen = set()
        for verdict in evaluate_rule(rule, self.facts(project_id, rule), self.now):
            seen.add(verdict.subject.key)
            self._observe(project_id, rule, verdict, trackers.get(verdict.subject.key))
        for key, row in trackers.items():
            if key not in seen:  # no fact for it any more: the condition no longer holds
                kind, name = key.split(":", 1)
                gone = Subject(kind, name, label=key)  # the label is not used when clearing
                self._observe(project_id, rule, Verdict(gone, False, ""), row)

    def _observe(self, project_id: int, rule: Rule, verdict: Verdict, row: Any) -> None:
        before = Tracker(row.firing, row.pending_since) if row is not None else Tracker()
        incident_id = row.incident_id if row is not None else None
        after, action = step(
            before, verdict.firing, self.now, rule.hold_fire, rule.hold_clear, verdict.since
        )
        if action == Action.OPEN:
            incident_id = self._open(project_id, rule, verdict)
        elif action == Action.RESOLVE and incident_id is not None:
            self._resolve(incident_id)
            incident_id = None
        self._save_tracker(rule.id, verdict.subject.key, row, after, incident_id)

    def _open(self, project_id: int, rule: Rule, verdict: Verdict) -> int:
        started = min(verdict.since or self.now, self.now)
        result = self.conn.execute(
            insert(incidents).values(
                project_id=project_id,
                rule_id=rule.id,
                rule_name=rule.name,
                subject_key=verdict.subject.key,
                subject_label=verdict.subject.label,
                severity=rule.severity.value,
                status="open",
                summary=verdict.summary,
                labels=_labels(rule, verdict.subject),
                started_at=started,
                opened_at=self.now,
                last_notified_at=self.now,
            )
        )
        (inserted,) = result.inserted_primary_key or (0,)
        incident_id = int(inserted)
        self.notify(incident_row(self.conn, incident_id), "firing")
        self.result.opened.append(incident_id)
        return incident_id

    def _resolve(self, incident_id: int) -> None:
        # Compare and set: an incident already resolved by hand gets no second notice.
        changed = self.conn.execute(
            update(incidents)
            .where(incidents.c.id == incident_id, incidents.c.status != "resolved")
            .values(status="resolved", resolved_at=self.now, resolved_by="rule")
        ).rowcount
        if changed:
            self.notify(incident_row(self.conn, incident_id), "resolved")
            self.result.resolved.append(incident_id)

    def _save_tracker(
        self, rule_id: int, key: str, row: Any, after: Tracker, incident_id: int | None
    ) -> None:
        where = (alert_trackers.c.rule_id == rule_id) & (alert_trackers.c.subject_key == key)
        if after == Tracker():
            if row is not None:
                self.conn.execute(delete(alert_trackers).where(where))
            return
        values = {
            "firing": after.firing,
            "pending_since": after.pending_since,
            "incident_id": incident_id,
        }
        if row is None:
            self.conn.execute(
                insert(alert_trackers).values(rule_id=rule_id, subject_key=key, **values)
            )
        elif (row.firing, row.pending_since, row.incident_id) != tuple(values.values()):
            self.conn.execute(update(alert_trackers).where(where).values(values))

    def repeat_unacknowledged(self, rules: dict[int, Rule]) -> None:
        repeating = [rule_id for rule_id, rule in rules.items() if rule.repeat_every]
        if not repeating:
            return
        query = select(incidents).where(
            incidents.c.status == "open", incidents.c.rule_id.in_(repeating)
        )
        for incident in list(self.conn.execute(query).mappings()):
            rule = rules[incident["rule_id"]]
            due = repeat_due(
                incident["severity"],
                incident["status"],
                incident["last_notified_at"],
                rule.repeat_every,
                self.now,
            )
            if due:
                self.conn.execute(
                    update(incidents)
                    .where(incidents.c.id == incident["id"])
                    .values(last_notified_at=self.now)
                )
                self.notify(incident, "repeat")
                self.result.repeated.append(incident["id"])


def incident_row(conn: Connection, incident_id: int) -> RowMapping:
    return conn.execute(select(incidents).where(incidents.c.id == incident_id)).mappings().one()


def _enabled_rules(conn: Connection) -> list[Any]:
    query = select(alert_rules).where(alert_rules.c.enabled.is_(True))
    return list(conn.execute(query.order_by(alert_rules.c.id)))


def gather_facts(conn: Connection, now: datetime) -> dict[FactKey, tuple[Any, ...]]:
    """Every fact the enabled rules will read, except checks (cheap, and read inside the
    writer's transaction so that a check's state and its incident never disagree)."""
    found: dict[FactKey, tuple[Any, ...]] = {}
    for row in _enabled_rules(conn):
        rule = rule_of(row)
        key = (row.project_id, fact_kind(rule.kind), rule.window)
        if key[1] != "checks" and key not in found:
            found[key] = GATHERERS[key[1]](conn, row.project_id, rule.window, now)
    return found


def run_tick(conn: Connection, request: TickRequest) -> TickResult:
    ensure_builtin_rules(conn, request.now)
    rows = _enabled_rules(conn)
    current = _Pass(conn, request)
    rules = {}
    for row in rows:
        rule = rule_of(row)
        rules[rule.id] = rule
        current.run_rule(row.project_id, rule)
    current.repeat_unacknowledged(rules)
    return current.result


def tick_handler(conn: Connection, batch: Sequence[TickRequest]) -> list[TickResult]:
    return [run_tick(conn, request) for request in batch]


def utc_now() -> datetime:
    return datetime.now(UTC)
