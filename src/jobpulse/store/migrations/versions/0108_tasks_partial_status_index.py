"""task log: the status index leaves successful runs out

Lists of failed, retrying, queued or running runs read the status index; successful runs,
nearly every run, are found through the other indexes (by time, task or queue) as quickly,
so indexing them by status only cost a B-tree insert per run. Queries name the index's
condition (tasks_tables.has_status) so SQLite can use it.

Revision ID: 0108
Revises: 0107
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0108"
down_revision = "0107"
branch_labels = None
depends_on = None

_NAME = "ix_task_runs_status_created"
_COLUMNS = ["project_id", "status", "created_at", "id"]
_NOT_SUCCESSFUL = sa.text("status <> 'success'")


def upgrade() -> None:
    op.drop_index(_NAME, "task_runs")
    op.create_index(
        _NAME,
        "task_runs",
        _COLUMNS,
        sqlite_where=_NOT_SUCCESSFUL,
        postgresql_where=_NOT_SUCCESSFUL,
    )


def downgrade() -> None:
    op.drop_index(_NAME, "task_runs")
    op.create_index(_NAME, "task_runs", _COLUMNS)
