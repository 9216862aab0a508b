"""Task event ingest: a writer batch handler that stores whole batches with a few statements.

Per transaction (its requests prepared and merged per job by store/tasks_prepare.py before
the writer's turn): look up the jobs the events touch (locked on PostgreSQL; on SQLite, the
jobs are first inserted as prepared where the unique index has none yet, and only the
others are looked up); insert the new ones as prepared; fold the events of known jobs into
their stored runs and update them; add the change of every run's contribution to the
rollups, all in the writer's transaction. Folding is idempotent (an event seen again
changes nothing), so a replay leaves runs and rollups as they were: no table of seen events
is needed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, RowMapping, select

from jobpulse.domain.runs import Run, fold_all
from jobpulse.store.bulk import BulkInsert, BulkUpdate, to_json
from jobpulse.store.tasks_job_ref import JOB_REF_SQL, job_ref
from jobpulse.store.tasks_prepare import EventBatch, PreparedRun, TransactionPlan
from jobpulse.store.tasks_rows import (
    ATTEMPT_COLUMNS,
    ROLLUP_KEY_COLUMNS,
    ROLLUP_VALUE_COLUMNS,
    RUN_STATE_COLUMNS,
    RollupDelta,
    attempt_row,
    contribution_of,
    run_of,
    run_row,
)
from jobpulse.store.tasks_tables import (
    task_attempts,
    task_project_durations,
    task_rollup_durations,
    task_rollups,
    task_runs,
)

_CHUNK = 5000


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _known_runs(conn: Connection, project_id: int, job_ids: list[str]) -> dict[str, int]:
    """The run id of each of job_ids already stored: one statement and one parameter for the
    whole list (a bound IN list costs more to compile than the lookups cost to run)."""
    if conn.dialect.name == "postgresql":
        # One probe of the hash index of job references (tasks_job_ref) per job, whatever
        # the statistics say: OFFSET 0 keeps the lateral subquery a loop of look-ups, not a
        # join planned on guesses (on a table without statistics, PostgreSQL once read every
        # run of the project per job id), and no other index can serve the reference. They
        # go over as one JSON array: as a text[] parameter, the driver's quoting of each
        # element cost more CPU than the look-up (11 ms against 0.4 for 5,000 ids).
        sql = (
            "SELECT found.job_id, found.id FROM json_array_elements_text(%s::json) "
            "AS wanted(job_ref) CROSS JOIN LATERAL (SELECT id, job_id FROM task_runs "
            f"WHERE {JOB_REF_SQL} = wanted.job_ref OFFSET 0) AS found"
        )
        wanted = [job_ref(project_id, job_id) for job_id in job_ids]
        found = conn.exec_driver_sql(sql, (to_json(wanted),))
    else:
        sql = (
            "SELECT job_id, id FROM task_runs WHERE project_id = ? "
            "AND job_id IN (SELECT value FROM json_each(?))"
        )
        found = conn.exec_driver_sql(sql, (project_id, to_json(job_ids)))
    return {job_id: run_id for job_id, run_id in found}


def _load_runs(conn: Connection, run_ids: list[int]) -> dict[str, RowMapping]:
    """Rows of task_runs by job_id; locked in id order on PostgreSQL."""
    found: dict[str, RowMapping] = {}
    for chunk in _chunks(sorted(run_ids)):
        query = select(task_runs).where(task_runs.c.id.in_(chunk)).order_by(task_runs.c.id)
        if conn.dialect.name == "postgresql":
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


def _sqlite_changes(conn: Connection) -> int:
    """Rows changed so far on this SQLite connection (an insert that was skipped is not)."""
    return int(conn.connection.dbapi_connection.total_changes)  # type: ignore[union-attr]


def _new_run_ids(conn: Connection, count: int) -> list[int]:
    """Ids for new runs, known before the insert so their attempts need no second lookup.

    SQLite: the writer's transaction began IMMEDIATE, so nobody else inserts until it ends
    (and a transaction that did not would fail on its stale snapshot or on the primary key,
    never store a wrong id). PostgreSQL: from the id sequence, which nodes share safely.
    """
    if not count:
        return []
    if conn.dialect.name == "postgresql":
        # The sequence's name once, not per id (the lookup cost more than nextval itself).
        found = conn.exec_driver_sql(
            "WITH sequence AS MATERIALIZED (SELECT pg_get_serial_sequence('task_runs', 'id')"
            "::regclass AS name) SELECT nextval(sequence.name) FROM sequence, "
            "generate_series(1, %(count)s)",
            {"count": count},
        )
        return [row[0] for row in found]
    highest = conn.exec_driver_sql("SELECT max(id) FROM task_runs").scalar() or 0
    return list(range(highest + 1, highest + 1 + count))


class TaskIngest:
    """Writer batch handler for EventBatch; the result per batch is its number of events."""

    @staticmethod
    def prepare(batch: EventBatch) -> EventBatch:
        """The writer's step before its turn (see GroupCommitWriter._prepare)."""
        return batch.prepare()

    @staticmethod
    def prepare_together(batches: Sequence[EventBatch]) -> None:
        """The writer's step before its turn for all the requests of a transaction: their
        jobs merged across requests, kept on the first one for __call__."""
        if batches:
            batches[0].plan = TransactionPlan(batches)

    def __call__(self, conn: Connection, batches: Sequence[EventBatch]) -> list[int]:
        plan = batches[0].plan if batches else None
        if plan is None or not plan.is_for(batches):
            plan = TransactionPlan(batches)
        else:
            batches[0].plan = None  # used once: its delta changes below (a retry plans anew)
        for project_id, jobs in plan.jobs.items():
            self._apply_project(conn, project_id, jobs, plan.delta)
        _apply_rollups(conn, plan.delta)
        return [batch.size for batch in batches]

    def _apply_project(
        self,
        conn: Connection,
        project_id: int,
        jobs: dict[str, PreparedRun],
        delta: RollupDelta,
    ) -> None:
        """Insert the jobs seen for the first time as prepared; fold the others again."""
        if not jobs:  # only empty requests
            return
        if conn.dialect.name == "sqlite":
            # Nearly every job is new: insert them straight away, letting the unique index
            # skip those already stored, and look up only those (a look-up of every job
            # before the insert cost a fifth of the write at 10 M runs).
            stored = self._insert_runs(conn, project_id, list(jobs.items()), skip_known=True)
            jobs = {job_id: run for job_id, run in jobs.items() if job_id not in stored}
            if not jobs:
                return
        known = _known_runs(conn, project_id, list(jobs))
        existing = _load_runs(conn, list(known.values())) if known else {}
        attempts = _load_attempts(conn, [row["id"] for row in existing.values()])
        fresh: list[tuple[str, PreparedRun]] = []
        changed: list[tuple[int, Run | None, Run]] = []
        for job_id, prepared in jobs.items():
            row = existing.get(job_id)
            if row is None:
                fresh.append((job_id, prepared))
                continue
            # Its prepared contribution assumed a new job: take it back.
            delta.add(project_id, prepared.contribution, -1)
            stored_attempts = attempts.get(row["id"], [])
            before = run_of(row, stored_attempts)
            after = fold_all(before, prepared.events)
            assert after is not None
            if after != before:  # else nothing new: the stored contribution stays
                delta.add(project_id, contribution_of(row), -1)
                changed.append((row["id"], before if stored_attempts else None, after))
        self._insert_runs(conn, project_id, fresh)
        self._update_runs(conn, project_id, changed, delta)

    @staticmethod
    def _insert_runs(
        conn: Connection,
        project_id: int,
        runs: list[tuple[str, PreparedRun]],
        skip_known: bool = False,
    ) -> set[str]:
        """Insert new runs and their attempts; returns the job ids inserted. `skip_known`
        (SQLite): a job already stored is left out (and left to the caller), not an error."""
        if not runs:
            return set()
        ids = _new_run_ids(conn, len(runs))
        rows = [
            (run_id, project_id, job_id, *prepared.row)
            for (job_id, prepared), run_id in zip(runs, ids, strict=True)
        ]
        if skip_known:
            changes = _sqlite_changes(conn)
            _INSERT_NEW_RUNS.tuples(conn, rows)
            if _sqlite_changes(conn) - changes < len(rows):
                found = conn.exec_driver_sql("SELECT id FROM task_runs WHERE id >= ?", (ids[0],))
                inserted = {run_id for (run_id,) in found}
                rows = [row for row in rows if row[0] in inserted]
        else:
            _INSERT_RUNS.tuples(conn, rows)
        prepared_of = dict(runs)
        _INSERT_ATTEMPTS.tuples(
            conn,
            [(row[0], *attempt) for row in rows for attempt in prepared_of[row[2]].attempts],
        )
        return {row[2] for row in rows}

    @staticmethod
    def _update_runs(
        conn: Connection,
        project_id: int,
        changed: list[tuple[int, Run | None, Run]],
        delta: RollupDelta,
    ) -> None:
        """Store runs folded again: `before` as stored with its attempt rows (None: it had
        none, its row implied them), `after` with the new events. A run that has attempt
        rows keeps them; one that had none gets all of its attempts once its row no longer
        implies them."""
        if not changed:
            return
        run_rows = []
        new_attempts = []
        changed_attempts = []
        for run_id, before, after in changed:
            contribution, row, implied = run_row(after)
            delta.add(project_id, contribution, 1)
            run_rows.append((*row, run_id))
            if before is None and implied:
                continue
            for number, attempt in after.attempts.items():
                stored = before.attempts.get(number) if before is not None else None
                if stored is None:
                    new_attempts.append((run_id, number, *attempt_row(attempt)))
                elif stored != attempt:
                    changed_attempts.append((*attempt_row(attempt), run_id, number))
        _UPDATE_RUNS.tuples(conn, run_rows)
        _INSERT_ATTEMPTS.tuples(conn, new_attempts)
        _UPDATE_ATTEMPTS.tuples(conn, changed_attempts)


_RUN_COLUMNS = ("id", "project_id", "job_id", *RUN_STATE_COLUMNS)
_INSERT_RUNS = BulkInsert(task_runs, _RUN_COLUMNS)
_INSERT_NEW_RUNS = BulkInsert(task_runs, _RUN_COLUMNS, ("project_id", "job_id"))
_INSERT_ATTEMPTS = BulkInsert(task_attempts, ("run_id", "number", *ATTEMPT_COLUMNS))
# Straight to the driver, like the inserts (SQLAlchemy's per-row parameter processing cost
# more than the updates themselves when producers and workers report separately).
_UPDATE_RUNS = BulkUpdate(task_runs, ("id",), RUN_STATE_COLUMNS)
_UPDATE_ATTEMPTS = BulkUpdate(task_attempts, ("run_id", "number"), ATTEMPT_COLUMNS)


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
    """Add the batch's changes to the rollups (PostgreSQL: in key order, see BulkInsert)."""
    _ADD_ROLLUPS.tuples(conn, delta.count_rows())
    _ADD_DURATIONS.tuples(conn, delta.duration_rows())
    _ADD_PROJECT_DURATIONS.tuples(conn, delta.project_duration_rows())
