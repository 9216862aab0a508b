"""Task log tables: one row per run, its attempts, and
per-minute/per-hour rollups that stats and timelines read instead of raw rows.

Attempts and rollups are keyed by their primary key alone: on SQLite they are WITHOUT ROWID
tables, whose rows live in the key's B-tree (one B-tree written per row, not two)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    literal_column,
    text,
)
from sqlalchemy.sql.elements import ColumnElement

from jobpulse.domain.runs import RunStatus
from jobpulse.store.tables import BigId, Timestamp, metadata

# The statuses a rollup counts, one column each (n_<status>).
ROLLUP_STATUSES = (
    "deferred",
    "queued",
    "in_progress",
    "success",
    "failed",
    "retrying",
    "expired",
    "canceled",
)
MINUTE = 60
HOUR = 3600
_SUCCESS = RunStatus.SUCCESS.value
_NOT_SUCCESSFUL = f"status <> '{_SUCCESS}'"

task_runs = Table(
    "task_runs",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("project_id", Integer, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("job_id", String(200), nullable=False),
    Column("task_name", String(200), nullable=False),
    Column("queue_name", String(200), nullable=False),
    Column("args", JSON, nullable=True),
    Column("kwargs", JSON, nullable=True),
    Column("status", String(12), nullable=False),
    Column("duration_ms", Float, nullable=True),
    # domain.stats.duration_octave(duration_ms): what "slowest first" reads by index.
    Column("duration_octave", SmallInteger, nullable=False, default=0),
    Column("job_retry", Integer, nullable=True),
    Column("job_retries", Integer, nullable=False, default=0),
    Column("job_retry_after", Float, nullable=True),
    Column("success", Boolean, nullable=True),
    Column("result", JSON, nullable=True),
    Column("error_message", Text, nullable=True),
    Column("traceback", Text, nullable=True),
    Column("fingerprint", String(16), nullable=True),
    Column("worker_id", String(200), nullable=True),
    Column("enqueue_time", Timestamp, nullable=True),
    Column("expire_time", Timestamp, nullable=True),
    Column("start_time", Timestamp, nullable=True),
    Column("finish_time", Timestamp, nullable=True),
    Column("created_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
    Column("tags", JSON, nullable=True),
    Column("trace_id", String(100), nullable=True),
    # One run per job. On PostgreSQL, since migration 0111, an exclusion constraint over a
    # hash index of "<project_id>:<job_id>" (ex_task_runs_job_ref; see tasks_job_ref) does it
    # instead. There, job_id, task_name and queue_name (and the rollups' names) are
    # COLLATE "C" since 0110: compared byte by byte, as SQLite does.
    UniqueConstraint("project_id", "job_id", name="uq_task_runs_project_job"),
    Index("ix_task_runs_created", "project_id", "created_at", "id"),
    # Successful runs, nearly all of them, are found by the other indexes; only the rare
    # statuses need this one (migration 0108). See has_status().
    Index(
        "ix_task_runs_status_created",
        "project_id",
        "status",
        "created_at",
        "id",
        sqlite_where=text(_NOT_SUCCESSFUL),
        postgresql_where=text(_NOT_SUCCESSFUL),
    ),
    Index("ix_task_runs_task_created", "project_id", "task_name", "created_at", "id"),
    Index("ix_task_runs_queue_created", "project_id", "queue_name", "created_at", "id"),
    Index("ix_task_runs_duration_octave", "project_id", "duration_octave", "id"),
    Index("ix_task_runs_task_duration_octave", "project_id", "task_name", "duration_octave", "id"),
    Index(
        "ix_task_runs_finished",
        "project_id",
        "finish_time",
        sqlite_where=text("finish_time IS NOT NULL"),
        postgresql_where=text("finish_time IS NOT NULL"),
    ),
)

task_attempts = Table(
    "task_attempts",
    metadata,
    Column("run_id", BigId, ForeignKey("task_runs.id", ondelete="CASCADE"), primary_key=True),
    Column("number", Integer, primary_key=True, autoincrement=False),
    Column("queued_at", Timestamp, nullable=True),
    Column("was_enqueued", Boolean, nullable=False, default=False),
    Column("was_deferred", Boolean, nullable=False, default=False),
    Column("started_at", Timestamp, nullable=True),
    Column("worker_id", String(200), nullable=True),
    Column("outcome", String(12), nullable=True),
    Column("finished_at", Timestamp, nullable=True),
    Column("error", Text, nullable=True),
    Column("traceback", Text, nullable=True),
    Column("result", JSON, nullable=True),
    Column("retry_after", Float, nullable=True),
    # SQLite: the rows live in the key's B-tree, not in a rowid table plus an index of the
    # key (one B-tree written per attempt instead of two; migration 0107).
    sqlite_with_rowid=False,
)


def _rollup_key() -> list[Column[object]]:
    """Project, task and queue, and the start of a minute (period 60) or an hour (3600)."""
    return [
        Column(
            "project_id", Integer, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False
        ),
        Column("task_name", String(200), nullable=False),
        Column("queue_name", String(200), nullable=False),
        Column("period", SmallInteger, nullable=False),
        Column("bucket_start", Float(precision=53), nullable=False),
    ]


task_rollups = Table(
    "task_rollups",
    metadata,
    *_rollup_key(),
    *(Column(f"n_{status}", Integer, nullable=False, default=0) for status in ROLLUP_STATUSES),
    Column("duration_count", Integer, nullable=False, default=0),
    Column("duration_sum_ms", Float(precision=53), nullable=False, default=0.0),
    PrimaryKeyConstraint(
        "project_id", "period", "bucket_start", "task_name", "queue_name", name="pk_task_rollups"
    ),
    sqlite_with_rowid=False,
)

task_rollup_durations = Table(
    "task_rollup_durations",
    metadata,
    *_rollup_key(),
    Column("bucket", SmallInteger, nullable=False),
    Column("count", Integer, nullable=False, default=0),
    PrimaryKeyConstraint(
        "project_id",
        "period",
        "bucket_start",
        "task_name",
        "queue_name",
        "bucket",
        name="pk_task_rollup_durations",
    ),
    sqlite_with_rowid=False,
)

# The same histograms summed over all tasks and queues of a project: project-wide stats
# read one row per duration bucket and period instead of one per task, queue and bucket.
task_project_durations = Table(
    "task_project_durations",
    metadata,
    Column("project_id", Integer, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("period", SmallInteger, nullable=False),
    Column("bucket_start", Float(precision=53), nullable=False),
    Column("bucket", SmallInteger, nullable=False),
    Column("count", Integer, nullable=False, default=0),
    PrimaryKeyConstraint(
        "project_id", "period", "bucket_start", "bucket", name="pk_task_project_durations"
    ),
    sqlite_with_rowid=False,
)


def has_status(*statuses: str) -> list[ColumnElement[bool]]:
    """WHERE clauses for runs in one of `statuses`. Without success among them, they also
    carry the status index's own condition, word for word: SQLite uses a partial index only
    for a query that states its WHERE clause (PostgreSQL would infer it)."""
    column = task_runs.c.status
    found = [column == statuses[0] if len(statuses) == 1 else column.in_(statuses)]
    if _SUCCESS not in statuses:
        found.append(column != literal_column(f"'{_SUCCESS}'"))
    return found
