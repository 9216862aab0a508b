"""task log: on PostgreSQL, one run per job is a hash exclusion constraint

Ingest looks up every job of a batch before storing it. Each look-up read a random leaf of
the unique B-tree of job ids (about 60 bytes an entry for a UUID: 900 MB at 10 million runs,
seven times the default buffer pool), and under ingest half of the server's time went there.
The exclusion constraint that replaces it keeps one run per "<project_id>:<job_id>" through
a hash index: 4-byte hash codes, one bucket page per look-up (see store/tasks_job_ref.py).
PostgreSQL builds it (and analyzes the table) in 37 s for 10 million runs on a 2-core
machine, holding writes to task_runs meanwhile. SQLite keeps its unique index of project
and job id.

Revision ID: 0111
Revises: 0110
"""

from __future__ import annotations

from alembic import op

revision = "0111"
down_revision = "0110"
branch_labels = None
depends_on = None

_UNIQUE = "uq_task_runs_project_job"
_EXCLUSION = "ex_task_runs_job_ref"
# Spelled out, not imported: a migration must not change when the code does.
_JOB_REF = "(project_id::text || ':' || job_id)"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        f"ALTER TABLE task_runs ADD CONSTRAINT {_EXCLUSION} EXCLUDE USING hash ({_JOB_REF} WITH =)"
    )
    op.drop_constraint(_UNIQUE, "task_runs", type_="unique")
    # Statistics of the indexed expression: without them PostgreSQL expects 0.5 % of the runs
    # per job reference, and a detail page by job id paid 25 ms of JIT compilation for one row.
    op.execute("ANALYZE task_runs")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.create_unique_constraint(_UNIQUE, "task_runs", ["job_id", "project_id"])
    op.drop_constraint(_EXCLUSION, "task_runs")
