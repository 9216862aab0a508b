"""task log: index finished runs by finish time (alert rules read recent finishes)

Revision ID: 0102
Revises: 0101
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0102"
down_revision = "0101"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Partial: runs still going have no finish time, and every query bounds it from below.
    op.create_index(
        "ix_task_runs_finished",
        "task_runs",
        ["project_id", "finish_time"],
        sqlite_where=sa.text("finish_time IS NOT NULL"),
        postgresql_where=sa.text("finish_time IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_task_runs_finished", "task_runs")
