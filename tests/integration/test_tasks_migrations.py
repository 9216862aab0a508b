"""Task log migrations that move data, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import Connection, func, insert, inspect, select, text
from sqlalchemy.exc import IntegrityError

from jobpulse.domain.stats import duration_octave
from jobpulse.store.db import _alembic_config, make_engine
from jobpulse.store.projects import ensure_project
from jobpulse.store.tasks_tables import (
    ROLLUP_STATUSES,
    task_attempts,
    task_project_durations,
    task_rollup_durations,
    task_rollups,
)

HOUR = 3600.0


def test_0104_backfills_project_histograms_from_per_task_ones(database_url: str) -> None:
    engine = make_engine(database_url)
    config = _alembic_config(engine)
    command.upgrade(config, "0103")
    key = {"period": 3600, "bucket_start": 10 * HOUR}
    rows = [
        {**key, "task_name": "a", "queue_name": "q", "bucket": 40, "count": 3},
        {**key, "task_name": "b", "queue_name": "q", "bucket": 40, "count": 2},
        {**key, "task_name": "b", "queue_name": "r", "bucket": 41, "count": 1},
        {**key, "task_name": "c", "queue_name": "r", "bucket": 42, "count": 0},
    ]
    with engine.begin() as conn:
        project_id = ensure_project(conn)
        conn.execute(
            text(
                "INSERT INTO task_rollup_durations (project_id, task_name, queue_name, period,"
                " bucket_start, bucket, count) VALUES (:project_id, :task_name, :queue_name,"
                " :period, :bucket_start, :bucket, :count)"
            ),
            [{**row, "project_id": project_id} for row in rows],
        )
    command.upgrade(config, "heads")
    with engine.begin() as conn:
        found = conn.execute(
            select(task_project_durations.c.bucket, task_project_durations.c.count).order_by(
                task_project_durations.c.bucket
            )
        ).all()
        assert [tuple(row) for row in found] == [(40, 5), (41, 1)]
    with pytest.raises(IntegrityError), engine.begin() as conn:  # ingest's upsert key
        conn.execute(
            insert(task_project_durations),
            [{"project_id": project_id, **key, "bucket": 40, "count": 1}],
        )
    command.downgrade(config, "0103")
    command.upgrade(config, "heads")
    engine.dispose()


def test_0105_backfills_duration_octaves_as_the_domain_computes_them(database_url: str) -> None:
    engine = make_engine(database_url)
    config = _alembic_config(engine)
    command.upgrade(config, "0104")
    durations = [None, 0.0, 2**-10, 2**-10 * 1.000001, 0.3, 1.0, 1.5, 2.0, 2.0000001, 9e4, 6e5]
    durations += [2.0**51, 2.0**51 * 1.5, 1e300]
    with engine.begin() as conn:
        project_id = ensure_project(conn)
        conn.execute(
            text(
                "INSERT INTO task_runs (project_id, job_id, task_name, queue_name, status,"
                " duration_ms, job_retries, created_at, updated_at) VALUES (:project_id, :job_id,"
                " 't', 'q', 'success', :duration_ms, 0, 0, 0)"
            ),
            [
                {"project_id": project_id, "job_id": f"j{i}", "duration_ms": duration}
                for i, duration in enumerate(durations)
            ],
        )
    command.upgrade(config, "heads")
    with engine.begin() as conn:
        found = conn.execute(text("SELECT job_id, duration_octave FROM task_runs")).all()
    octaves = {job_id: octave for job_id, octave in found}
    assert octaves == {f"j{i}": duration_octave(d) for i, d in enumerate(durations)}
    command.downgrade(config, "0104")
    command.upgrade(config, "heads")
    engine.dispose()


def _keyed_tables(conn: Connection) -> dict[str, str]:
    """SQLite: the CREATE statement of each table 0107 rebuilds."""
    found = conn.execute(
        text("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name LIKE 'task_%'")
    ).all()
    return {name: sql for name, sql in found if name != "task_runs"}


def test_0107_keeps_attempts_and_rollups_and_their_keys(database_url: str) -> None:
    engine = make_engine(database_url)
    config = _alembic_config(engine)
    command.upgrade(config, "0106")
    minute = {"period": 60, "bucket_start": 10 * HOUR, "task_name": "t", "queue_name": "q"}
    with engine.begin() as conn:
        project_id = ensure_project(conn)
        conn.execute(
            text(
                "INSERT INTO task_runs (id, project_id, job_id, task_name, queue_name, status,"
                " duration_octave, job_retries, created_at, updated_at) VALUES (7, :p, 'j', 't',"
                " 'q', 'failed', 0, 1, 0, 0)"
            ),
            {"p": project_id},
        )
        conn.execute(
            text(
                "INSERT INTO task_attempts (run_id, number, was_enqueued, was_deferred, outcome,"
                " error) VALUES (7, :number, true, false, :outcome, 'boom')"
            ),
            [{"number": 1, "outcome": "retrying"}, {"number": 2, "outcome": "failed"}],
        )
        conn.execute(
            insert(task_rollups),
            [{"project_id": project_id, **minute, **{f"n_{s}": 0 for s in ROLLUP_STATUSES},
              "n_failed": 1, "duration_count": 1, "duration_sum_ms": 5.0}],
        )  # fmt: skip
        conn.execute(insert(task_rollup_durations), [
            {"project_id": project_id, **minute, "bucket": 40, "count": 1}
        ])  # fmt: skip
        conn.execute(insert(task_project_durations), [
            {"project_id": project_id, "period": 60, "bucket_start": 10 * HOUR, "bucket": 40,
             "count": 1}
        ])  # fmt: skip
    command.upgrade(config, "0108")  # 0109 drops the foreign keys on PostgreSQL
    with engine.begin() as conn:
        attempts = conn.execute(
            select(
                task_attempts.c.run_id, task_attempts.c.number, task_attempts.c.outcome
            ).order_by(task_attempts.c.number)
        ).all()
        assert [tuple(row) for row in attempts] == [(7, 1, "retrying"), (7, 2, "failed")]
        assert conn.execute(select(task_rollups.c.n_failed)).scalar_one() == 1
        assert conn.execute(select(task_rollup_durations.c.count)).scalar_one() == 1
        assert conn.execute(select(task_project_durations.c.count)).scalar_one() == 1
        if engine.dialect.name == "sqlite":
            tables = _keyed_tables(conn)
            assert all("WITHOUT ROWID" in sql for sql in tables.values()), tables
            assert "ON DELETE CASCADE" in tables["task_attempts"]
    duplicates = [
        (task_attempts, {"run_id": 7, "number": 2, "was_enqueued": True, "was_deferred": False}),
        (task_rollup_durations, {"project_id": project_id, **minute, "bucket": 40, "count": 1}),
    ]
    for table, row in duplicates:  # ingest's upserts and look-ups rely on these keys
        with pytest.raises(IntegrityError), engine.begin() as conn:
            conn.execute(insert(table), [row])
    with engine.begin() as conn:  # the foreign key still cascades
        conn.execute(text("DELETE FROM task_runs WHERE id = 7"))
        assert conn.execute(select(func.count()).select_from(task_attempts)).scalar_one() == 0
    command.downgrade(config, "0106")
    with engine.begin() as conn:
        assert conn.execute(select(task_rollup_durations.c.count)).scalar_one() == 1
        if engine.dialect.name == "sqlite":
            assert not any("WITHOUT ROWID" in sql for sql in _keyed_tables(conn).values())
    command.upgrade(config, "heads")
    engine.dispose()


def _task_foreign_keys(conn: Connection) -> set[tuple[str, str]]:
    """(table, referred table) of each foreign key of the task log's tables."""
    found = set()
    for table in _TASK_TABLES:
        for key in inspect(conn).get_foreign_keys(table):
            found.add((table, key["referred_table"]))
    return found


_TASK_TABLES = [
    "task_runs",
    "task_attempts",
    "task_rollups",
    "task_rollup_durations",
    "task_project_durations",
]


def test_0109_drops_the_task_log_foreign_keys_on_postgresql_only(database_url: str) -> None:
    engine = make_engine(database_url)
    config = _alembic_config(engine)
    command.upgrade(config, "0108")
    with engine.begin() as conn:
        before = _task_foreign_keys(conn)
    assert ("task_attempts", "task_runs") in before and len(before) == 5
    command.upgrade(config, "heads")
    with engine.begin() as conn:
        after = _task_foreign_keys(conn)
    assert after == (set() if engine.dialect.name == "postgresql" else before)
    command.downgrade(config, "0108")
    with engine.begin() as conn:
        assert _task_foreign_keys(conn) == before
    command.upgrade(config, "heads")
    engine.dispose()


def _name_collations(conn: Connection) -> dict[tuple[str, str], str | None]:
    """The collation of the task log's name columns on PostgreSQL (None: the default)."""
    found = conn.execute(
        text(
            "SELECT c.table_name, c.column_name, c.collation_name FROM "
            "information_schema.columns c WHERE c.table_schema = current_schema() AND "
            "c.table_name IN ('task_runs', 'task_rollups', 'task_rollup_durations') AND "
            "c.column_name IN ('job_id', 'task_name', 'queue_name')"
        )
    )
    return {(table, column): collation for table, column, collation in found}


def _insert_run(conn: Connection, project_id: int, job_id: str, task_name: str) -> None:
    conn.execute(
        text(
            "INSERT INTO task_runs (project_id, job_id, task_name, queue_name, status, "
            "duration_octave, job_retries, created_at, updated_at) VALUES "
            "(:p, :job, :task, 'q', 'success', 0, 0, 1, 1)"
        ),
        {"p": project_id, "job": job_id, "task": task_name},
    )


# SQLite compares text byte by byte already (BINARY): 0110 changes nothing there.
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_0110_makes_names_bytewise_on_postgresql_keeping_rows_and_keys(
    database_url: str,
) -> None:
    engine = make_engine(database_url)
    config = _alembic_config(engine)
    command.upgrade(config, "0109")
    with engine.begin() as conn:
        assert set(_name_collations(conn).values()) == {None}
        project_id = ensure_project(conn)
        _insert_run(conn, project_id, "b-é", "Zeta")
        _insert_run(conn, project_id, "a", "alpha")
    command.upgrade(config, "0110")
    with engine.begin() as conn:
        collations = _name_collations(conn)
        assert len(collations) == 7 and set(collations.values()) == {"C"}
        names = conn.execute(text("SELECT task_name FROM task_runs ORDER BY task_name"))
        assert names.scalars().all() == ["Zeta", "alpha"]  # code points: upper case first
        with pytest.raises(IntegrityError), conn.begin_nested():  # still one run per job
            _insert_run(conn, project_id, "b-é", "x")
    command.downgrade(config, "0109")
    with engine.begin() as conn:
        assert set(_name_collations(conn).values()) == {None}
        assert conn.execute(text("SELECT COUNT(*) FROM task_runs")).scalar_one() == 2
    command.upgrade(config, "heads")
    engine.dispose()


def _constraints(conn: Connection) -> dict[str, str]:
    """The constraints of task_runs on PostgreSQL by name, as their type letter."""
    found = conn.execute(
        text(
            "SELECT conname, contype FROM pg_constraint WHERE conrelid = 'task_runs'::regclass "
            "AND contype IN ('u', 'x')"
        )
    )
    return {name: kind for name, kind in found}


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_0111_keeps_one_run_per_job_by_a_hash_exclusion_constraint(database_url: str) -> None:
    engine = make_engine(database_url)
    config = _alembic_config(engine)
    command.upgrade(config, "0110")
    with engine.begin() as conn:
        assert _constraints(conn) == {"uq_task_runs_project_job": "u"}
        project_id = ensure_project(conn)
        other_project = ensure_project(conn, "other")
        for job_id in ("b-é", "a", "1:a"):
            _insert_run(conn, project_id, job_id, "t")
    command.upgrade(config, "0111")
    with engine.begin() as conn:
        assert _constraints(conn) == {"ex_task_runs_job_ref": "x"}
        assert conn.execute(text("SELECT COUNT(*) FROM task_runs")).scalar_one() == 3
        for job_id in ("b-é", "a", "1:a"):
            with pytest.raises(IntegrityError), conn.begin_nested():
                _insert_run(conn, project_id, job_id, "again")
        _insert_run(conn, other_project, "a", "t")  # one run per job and project
        _insert_run(conn, project_id, "A", "t")
    command.downgrade(config, "0110")
    with engine.begin() as conn:
        assert _constraints(conn) == {"uq_task_runs_project_job": "u"}
        with pytest.raises(IntegrityError), conn.begin_nested():
            _insert_run(conn, project_id, "a", "again")
    command.upgrade(config, "heads")
    engine.dispose()
