"""task log: runs, attempts, events (idempotency) and rollups

Revision ID: 0101
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from jobpulse.store.tables import BigId, Timestamp

revision = "0101"
down_revision = "0001"
branch_labels = None
depends_on = None

_STATUSES = (
    "deferred",
    "queued",
    "in_progress",
    "success",
    "failed",
    "retrying",
    "expired",
    "canceled",
)


def _project_id() -> sa.Column[int]:
    return sa.Column(
        "project_id", sa.Integer, sa.ForeignKey("projects.id", ondelete="CASCADE"), nullable=False
    )


def _rollup_key() -> list[sa.Column[object]]:
    return [
        _project_id(),
        sa.Column("task_name", sa.String(200), nullable=False),
        sa.Column("queue_name", sa.String(200), nullable=False),
        sa.Column("period", sa.SmallInteger, nullable=False),
        sa.Column("bucket_start", sa.Float(precision=53), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "task_runs",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        _project_id(),
        sa.Column("job_id", sa.String(200), nullable=False),
        sa.Column("task_name", sa.String(200), nullable=False),
        sa.Column("queue_name", sa.String(200), nullable=False),
        sa.Column("args", sa.JSON, nullable=True),
        sa.Column("kwargs", sa.JSON, nullable=True),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("duration_ms", sa.Float, nullable=True),
        sa.Column("job_retry", sa.Integer, nullable=True),
        sa.Column("job_retries", sa.Integer, nullable=False),
        sa.Column("job_retry_after", sa.Float, nullable=True),
        sa.Column("success", sa.Boolean, nullable=True),
        sa.Column("result", sa.JSON, nullable=True),
        sa.Column("error_message", sa.Text, nullable=True),
        sa.Column("traceback", sa.Text, nullable=True),
        sa.Column("fingerprint", sa.String(16), nullable=True),
        sa.Column("worker_id", sa.String(200), nullable=True),
        sa.Column("enqueue_time", Timestamp, nullable=True),
        sa.Column("expire_time", Timestamp, nullable=True),
        sa.Column("start_time", Timestamp, nullable=True),
        sa.Column("finish_time", Timestamp, nullable=True),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("updated_at", Timestamp, nullable=False),
        sa.Column("tags", sa.JSON, nullable=True),
        sa.Column("trace_id", sa.String(100), nullable=True),
        sa.UniqueConstraint("project_id", "job_id", name="uq_task_runs_project_job"),
    )
    for name, columns in (
        ("ix_task_runs_created", ["project_id", "created_at", "id"]),
        ("ix_task_runs_status_created", ["project_id", "status", "created_at", "id"]),
        ("ix_task_runs_task_created", ["project_id", "task_name", "created_at", "id"]),
        ("ix_task_runs_queue_created", ["project_id", "queue_name", "created_at", "id"]),
    ):
        op.create_index(name, "task_runs", columns)
    # "Slowest first" (-duration_ms, NULLs last), overall and per task: on PostgreSQL these
    # indexes are read forwards; SQLite sorts NULLs first already, so plain ones serve it
    # backwards.
    postgresql = op.get_bind().dialect.name == "postgresql"
    for name, prefix in (
        ("ix_task_runs_duration", ["project_id"]),
        ("ix_task_runs_task_duration", ["project_id", "task_name"]),
    ):
        if postgresql:
            columns = [
                *map(sa.text, prefix),
                sa.text("duration_ms DESC NULLS LAST"),
                sa.text("id DESC"),
            ]
            op.create_index(name, "task_runs", columns)
        else:
            op.create_index(name, "task_runs", [*prefix, "duration_ms", "id"])
    op.create_table(
        "task_attempts",
        sa.Column(
            "run_id", BigId, sa.ForeignKey("task_runs.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("number", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("queued_at", Timestamp, nullable=True),
        sa.Column("was_enqueued", sa.Boolean, nullable=False),
        sa.Column("was_deferred", sa.Boolean, nullable=False),
        sa.Column("started_at", Timestamp, nullable=True),
        sa.Column("worker_id", sa.String(200), nullable=True),
        sa.Column("outcome", sa.String(12), nullable=True),
        sa.Column("finished_at", Timestamp, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("traceback", sa.Text, nullable=True),
        sa.Column("result", sa.JSON, nullable=True),
        sa.Column("retry_after", sa.Float, nullable=True),
    )
    op.create_table(
        "task_events",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        _project_id(),
        sa.Column("job_id", sa.String(200), nullable=False),
        sa.Column("type", sa.String(12), nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("ts", Timestamp, nullable=False),
        sa.UniqueConstraint("project_id", "job_id", "type", "attempt", name="uq_task_events_key"),
    )
    op.create_index("ix_task_events_ts", "task_events", ["ts"])
    op.create_table(
        "task_rollups",
        *_rollup_key(),
        *(sa.Column(f"n_{status}", sa.Integer, nullable=False) for status in _STATUSES),
        sa.Column("duration_count", sa.Integer, nullable=False),
        sa.Column("duration_sum_ms", sa.Float(precision=53), nullable=False),
        sa.UniqueConstraint(
            "project_id",
            "period",
            "bucket_start",
            "task_name",
            "queue_name",
            name="uq_task_rollups",
        ),
    )
    op.create_table(
        "task_rollup_durations",
        *_rollup_key(),
        sa.Column("bucket", sa.SmallInteger, nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.UniqueConstraint(
            "project_id",
            "period",
            "bucket_start",
            "task_name",
            "queue_name",
            "bucket",
            name="uq_task_rollup_durations",
        ),
    )


def downgrade() -> None:
    for table in (
        "task_rollup_durations",
        "task_rollups",
        "task_events",
        "task_attempts",
        "task_runs",
    ):
        op.drop_table(table)
