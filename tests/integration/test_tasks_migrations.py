"""Task log migrations that move data, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import insert, select, text
from sqlalchemy.exc import IntegrityError

from jobpulse.domain.stats import duration_octave
from jobpulse.store.db import _alembic_config, make_engine
from jobpulse.store.projects import ensure_project
from jobpulse.store.tasks_tables import task_project_durations

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
