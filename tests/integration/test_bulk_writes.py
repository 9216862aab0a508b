"""The ingest's bulk writes (store/bulk.py) on both databases: values arrive exactly as given
(PostgreSQL's COPY is binary), upserts add up, and concurrent upserts take their row locks in
key order whatever order the rows were given in."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from jobpulse.store.db import make_engine, migrate
from jobpulse.store.projects import ensure_project
from jobpulse.store.tasks_ingest import _ADD_ROLLUPS, _INSERT_RUNS
from jobpulse.store.tasks_rows import ROLLUP_VALUE_COLUMNS
from tests.integration.queue_fixtures import wait_until

NOW = 1_765_000_000.25


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    found = make_engine(database_url)
    migrate(found)
    yield found
    found.dispose()


def _run_row(run_id: int, project_id: int, **values: object) -> tuple[object, ...]:
    row: dict[str, object] = {column: None for column in _INSERT_RUNS.columns}
    row.update(
        id=run_id,
        project_id=project_id,
        job_id=f"job-{run_id}",
        task_name="reports.build",
        queue_name="default",
        status="success",
        duration_octave=0,
        job_retries=0,
        created_at=NOW,
        updated_at=NOW,
    )
    row.update(values)
    return tuple(row[column] for column in _INSERT_RUNS.columns)


def test_values_are_stored_exactly_as_given(engine: Engine) -> None:
    with engine.begin() as conn:
        project_id = ensure_project(conn)
        _INSERT_RUNS.tuples(
            conn,
            [
                _run_row(
                    1,
                    project_id,
                    args='["ü", {"n": 1.5, "deep": [null, true]}]',
                    duration_ms=7,  # an integer where the column holds floats
                    duration_octave=12,  # a small integer column
                    job_retry=3,
                    job_retry_after=0.1,
                    success=False,
                    error_message="tab\there, newline\nthere, backslash \\ and 'quotes'",
                    start_time=NOW - 1.125,
                    tags='["nightly"]',
                ),
                _run_row(2, project_id),  # the NULLs
            ],
        )
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT id, args, duration_ms, duration_octave, job_retry, job_retry_after, "
            "success, error_message, start_time, created_at, tags, worker_id "
            "FROM task_runs ORDER BY id"
        ).all()
    first, second = rows
    args = first[1] if isinstance(first[1], list) else json.loads(first[1])
    assert args == ["ü", {"n": 1.5, "deep": [None, True]}]
    assert first[2:10] == (
        7.0,
        12,
        3,
        0.1,
        False,
        "tab\there, newline\nthere, backslash \\ and 'quotes'",
        NOW - 1.125,
        NOW,
    )
    assert first[11] is None
    assert second[1:9] == (None, None, 0, None, None, None, None, None)


def _rollup_row(project_id: int, task: str, successes: int) -> tuple[object, ...]:
    values = [0] * len(ROLLUP_VALUE_COLUMNS)
    values[ROLLUP_VALUE_COLUMNS.index("n_success")] = successes
    return (project_id, task, "default", 60, NOW // 60 * 60, *values)


def _successes(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        found = conn.exec_driver_sql("SELECT task_name, n_success FROM task_rollups").all()
    return dict(found)  # type: ignore[arg-type]


def test_upserts_add_to_the_stored_counts(engine: Engine) -> None:
    with engine.begin() as conn:
        project_id = ensure_project(conn)
        _ADD_ROLLUPS.tuples(conn, [_rollup_row(project_id, "a", 2)])
    with engine.begin() as conn:
        _ADD_ROLLUPS.tuples(
            conn, [_rollup_row(project_id, "b", 1), _rollup_row(project_id, "a", 3)]
        )
    assert _successes(engine) == {"a": 5, "b": 1}


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_concurrent_upserts_lock_rows_in_key_order(engine: Engine, database_url: str) -> None:
    """Rows come in any order (RollupDelta does not sort them). If an upsert locked them in
    the order given, the second transaction below would take "b" and wait for "a", which
    the first one holds, and the first one's write of "b" would then deadlock."""
    with engine.begin() as conn:
        project_id = ensure_project(conn)
        _ADD_ROLLUPS.tuples(conn, [_rollup_row(project_id, k, 1) for k in "ab"])
    errors: list[BaseException] = []

    def second() -> None:  # on a node of its own
        other = make_engine(database_url)
        try:
            with other.begin() as conn:
                _ADD_ROLLUPS.tuples(conn, [_rollup_row(project_id, k, 10) for k in "ba"])
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            other.dispose()

    thread = threading.Thread(target=second)
    with engine.connect() as first, engine.connect() as watcher:

        def second_waits_for_a_lock() -> int:
            found = watcher.exec_driver_sql(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND query LIKE 'INSERT INTO task_rollups %%'"
            ).scalar_one()
            watcher.rollback()  # a new snapshot of pg_stat_activity each time
            return int(found)

        first.begin()
        _ADD_ROLLUPS.tuples(first, [_rollup_row(project_id, "a", 1)])  # holds "a" only
        thread.start()
        try:
            wait_until(second_waits_for_a_lock, 10, "the second upsert to wait for a lock")
            # Deadlocks if the second one took "b" before it waited for "a".
            _ADD_ROLLUPS.tuples(first, [_rollup_row(project_id, "b", 100)])
            first.commit()
        finally:
            if first.in_transaction():
                first.rollback()
            thread.join(30)
    assert not errors
    assert _successes(engine) == {"a": 1 + 1 + 10, "b": 1 + 100 + 10}
