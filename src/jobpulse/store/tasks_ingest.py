"""Task event ingest: a writer batch handler that folds a whole batch with a few statements.

Per batch: load the runs the events touch (locked on PostgreSQL), fold, then insert/update
runs and attempts and add the change of every run's contribution to the rollups, all in the
writer's transaction. Folding is idempotent (an event seen again changes nothing), so a
replay leaves runs and rollups as they were: no table of seen events is needed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, RowMapping, and_, bindparam, select, update

from jobpulse.domain.runs import Run, TaskEvent, fold_all
from jobpulse.store.bulk import BulkInsert
from jobpulse.store.tasks_rows import (
    ATTEMPT_COLUMNS,
    ROLLUP_KEY_COLUMNS,
    ROLLUP_VALUE_COLUMNS,
    RUN_STATE_COLUMNS,
    RollupDelta,
    attempt_values,
    run_of,
    run_values,
)
from jobpulse.store.tasks_tables import (
    task_attempts,
    task_project_durations,
    task_rollup_durations,
    task_rollups,
    task_runs,
)

_CHUNK = 5000


@dataclass(frozen=True)
class EventBatch:
    """The events of one request, already validated and redacted."""

    project_id: int
    events: Sequence[TaskEvent]


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _by_job_id(
    conn: Connection, project_id: int, job_ids: list[str], *columns: Any
) -> dict[str, RowMapping]:
    """Rows of task_runs by job_id; locked in id order on PostgreSQL when whole rows are read."""
    found: dict[str, RowMapping] = {}
    for chunk in _chunks(sorted(job_ids)):
        query = (
            select(*(columns or (task_runs,)))
            .where(task_runs.c.project_id == project_id, task_runs.c.job_id.in_(chunk))
            .order_by(task_runs.c.id)
        )
        if not columns and conn.dialect.name == "postgresql":
            query = query.with_for_update()
        found.update((row["job_id"], row) for row in conn.execute(query).mappings())
    return found


def _load_attempts(conn: Connection, run_ids: list[int]) -> dict[int, list[RowMapping]]:
    found: dict[int, list[RowMapping]] = defaultdict(list)
    for chunk in _chunks(run_ids):
        query = select(task_attempts).where(task_attempts.c.run_id.in_(chunk))
        for row in conn.execute(query).mappings():
            found[row["run_id"]].append(row)
    return found


def _new_run_ids(conn: Connection, count: int) -> list[int]:
    """Ids for new runs, known before the insert so their attempts need no second lookup.

    SQLite: the writer's transaction began IMMEDIATE, so nobody else inserts until it ends
    (and a transaction that did not would fail on its stale snapshot or on the primary key,
    never store a wrong id). PostgreSQL: from the id sequence, which nodes share safely.
    """
    if not count:
        return []
    if conn.dialect.name == "postgresql":
        found = conn.exec_driver_sql(
            "SELECT nextval(pg_get_serial_sequence('task_runs', 'id')) "
            "FROM generate_series(1, %(count)s)",
            {"count": count},
        )
        return [row[0] for row in found]
    highest = conn.exec_driver_sql("SELECT max(id) FROM task_runs").scalar() or 0
    return list(range(highest + 1, highest + 1 + count))


class TaskIngest:
    """Writer batch handler for EventBatch; the result per batch is its number of events."""

    def __call__(self, conn: Connection, batches: Sequence[EventBatch]) -> list[int]:
        unique: dict[tuple[int, str, str, int], TaskEvent] = {}
        for batch in batches:
            for event in batch.events:
                unique.setdefault((batch.project_id, *event.key), event)
        if unique:
            by_job: dict[int, dict[str, list[TaskEvent]]] = defaultdict(lambda: defaultdict(list))
            for (project_id, job_id, _, _), event in unique.items():
                by_job[project_id][job_id].append(event)
            delta = RollupDelta()
            for project_id, events_by_job in by_job.items():
                self._apply_project(conn, project_id, events_by_job, delta)
            _apply_rollups(conn, delta)
        return [len(batch.events) for batch in batches]

    def _apply_project(
        self,
        conn: Connection,
        project_id: int,
        events_by_job: dict[str, list[TaskEvent]],
        delta: RollupDelta,
    ) -> None:
        existing = _by_job_id(conn, project_id, list(events_by_job))
        attempts = _load_attempts(conn, [row["id"] for row in existing.values()])
        new_runs: list[Run] = []
        changed: list[tuple[RowMapping, Run, dict[str, Any]]] = []
        for job_id, events in events_by_job.items():
            row = existing.get(job_id)
            before = run_of(row, attempts.get(row["id"], [])) if row is not None else None
            after = fold_all(before, events)
            assert after is not None
            if row is None:
                new_runs.append(after)
            elif after != before:
                old_values = {c: row[c] for c in RUN_STATE_COLUMNS}
                changed.append((row, after, old_values))
        self._insert_runs(conn, project_id, new_runs, delta)
        self._update_runs(conn, project_id, changed, attempts, delta)

    @staticmethod
    def _insert_runs(
        conn: Connection, project_id: int, runs: list[Run], delta: RollupDelta
    ) -> None:
        if not runs:
            return
        rows = []
        attempt_rows = []
        for run, run_id in zip(runs, _new_run_ids(conn, len(runs)), strict=True):
            values = run_values(run)
            delta.add(project_id, values, 1)
            rows.append({"id": run_id, "project_id": project_id, "job_id": run.job_id, **values})
            attempt_rows += [
                {"run_id": run_id, "number": attempt.number, **attempt_values(attempt)}
                for attempt in run.attempts.values()
            ]
        _INSERT_RUNS(conn, rows)
        _INSERT_ATTEMPTS(conn, attempt_rows)

    @staticmethod
    def _update_runs(
        conn: Connection,
        project_id: int,
        changed: list[tuple[RowMapping, Run, dict[str, Any]]],
        stored_attempts: dict[int, list[RowMapping]],
        delta: RollupDelta,
    ) -> None:
        if not changed:
            return
        run_params = []
        new_attempts: list[dict[str, Any]] = []
        changed_attempts: list[dict[str, Any]] = []
        for row, run, old_values in changed:
            values = run_values(run)
            delta.add(project_id, old_values, -1)
            delta.add(project_id, values, 1)
            run_params.append({"b_id": row["id"], **{f"b_{c}": values[c] for c in values}})
            stored = {a["number"]: a for a in stored_attempts.get(row["id"], [])}
            for number, attempt in run.attempts.items():
                attempt_row = {"run_id": row["id"], "number": number, **attempt_values(attempt)}
                if number not in stored:
                    new_attempts.append(attempt_row)
                elif any(stored[number][c] != attempt_row[c] for c in ATTEMPT_COLUMNS):
                    changed_attempts.append({f"b_{k}": v for k, v in attempt_row.items()})
        conn.execute(_UPDATE_RUN, run_params)
        _INSERT_ATTEMPTS(conn, new_attempts)
        if changed_attempts:
            conn.execute(_UPDATE_ATTEMPT, changed_attempts)


_INSERT_RUNS = BulkInsert(task_runs, ("id", "project_id", "job_id", *RUN_STATE_COLUMNS))
_INSERT_ATTEMPTS = BulkInsert(task_attempts, ("run_id", "number", *ATTEMPT_COLUMNS))
_UPDATE_RUN = (
    update(task_runs)
    .where(task_runs.c.id == bindparam("b_id"))
    .values({c: bindparam(f"b_{c}") for c in RUN_STATE_COLUMNS})
)
_UPDATE_ATTEMPT = (
    update(task_attempts)
    .where(
        and_(
            task_attempts.c.run_id == bindparam("b_run_id"),
            task_attempts.c.number == bindparam("b_number"),
        )
    )
    .values({c: bindparam(f"b_{c}") for c in ATTEMPT_COLUMNS})
)


_ADD_ROLLUPS = BulkInsert(
    task_rollups,
    (*ROLLUP_KEY_COLUMNS, *ROLLUP_VALUE_COLUMNS),
    ROLLUP_KEY_COLUMNS,
    adding=ROLLUP_VALUE_COLUMNS,
)
_ADD_DURATIONS = BulkInsert(
    task_rollup_durations,
    (*ROLLUP_KEY_COLUMNS, "bucket", "count"),
    (*ROLLUP_KEY_COLUMNS, "bucket"),
    adding=("count",),
)
_PROJECT_KEY = ("project_id", "period", "bucket_start", "bucket")
_ADD_PROJECT_DURATIONS = BulkInsert(
    task_project_durations, (*_PROJECT_KEY, "count"), _PROJECT_KEY, adding=("count",)
)


def _apply_rollups(conn: Connection, delta: RollupDelta) -> None:
    """Add the batch's changes to the rollups, in key order (no deadlocks between nodes)."""
    _ADD_ROLLUPS.tuples(conn, delta.count_rows())
    _ADD_DURATIONS.tuples(conn, delta.duration_rows())
    _ADD_PROJECT_DURATIONS.tuples(conn, delta.project_duration_rows())
