"""task log: duration histograms per project, for project-wide stats at volume

At 10 M runs a week, 24 h of per-task histograms are ~200 k rows; summed per project they
are a few thousand. Backfilled from the per-task histograms.

Revision ID: 0104
Revises: 0103
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0104"
down_revision = "0103"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "task_project_durations",
        sa.Column(
            "project_id",
            sa.Integer,
            sa.ForeignKey("projects.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("period", sa.SmallInteger, nullable=False),
        sa.Column("bucket_start", sa.Float(precision=53), nullable=False),
        sa.Column("bucket", sa.SmallInteger, nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.UniqueConstraint(
            "project_id", "period", "bucket_start", "bucket", name="uq_task_project_durations"
        ),
    )
    op.execute(
        "INSERT INTO task_project_durations (project_id, period, bucket_start, bucket, count) "
        "SELECT project_id, period, bucket_start, bucket, SUM(count) "
        "FROM task_rollup_durations GROUP BY project_id, period, bucket_start, bucket "
        "HAVING SUM(count) != 0"
    )


def downgrade() -> None:
    op.drop_table("task_project_durations")
