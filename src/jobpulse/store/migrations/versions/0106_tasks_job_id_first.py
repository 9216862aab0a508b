"""task log: on PostgreSQL, the unique index of job ids leads with job_id

Ingest looks up every job id of a batch in this index (tasks_ingest._known_runs). Led by
project_id, like every other index of task_runs, it tied on cost with them while the table
was young or its statistics stale, and PostgreSQL sometimes chose the duration index, read by
project alone: each of thousands of look-ups per batch then read every run of the project
(ingest stalled for minutes at 200,000 runs). Led by job_id, it is the only index that can
serve a look-up by job id, whatever the statistics say. SQLite keeps its index (a table
constraint it cannot drop without rebuilding the table); its planner does not guess.

Revision ID: 0106
Revises: 0105
"""

from __future__ import annotations

from alembic import op

revision = "0106"
down_revision = "0105"
branch_labels = None
depends_on = None

_NAME = "uq_task_runs_project_job"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_constraint(_NAME, "task_runs", type_="unique")
    op.create_unique_constraint(_NAME, "task_runs", ["job_id", "project_id"])


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_constraint(_NAME, "task_runs", type_="unique")
    op.create_unique_constraint(_NAME, "task_runs", ["project_id", "job_id"])
