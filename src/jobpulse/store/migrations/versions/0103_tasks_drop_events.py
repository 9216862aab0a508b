"""task log: drop task_events, written at every ingest but never read

Folding events into runs is idempotent on its own: an event seen again changes nothing.

Revision ID: 0103
Revises: 0102
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from jobpulse.store.tables import BigId, Timestamp

revision = "0103"
down_revision = "0102"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_task_events_ts", "task_events")
    op.drop_table("task_events")


def downgrade() -> None:
    op.create_table(
        "task_events",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column(
            "project_id",
            sa.Integer,
            sa.ForeignKey("projects.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("job_id", sa.String(200), nullable=False),
        sa.Column("type", sa.String(12), nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("ts", Timestamp, nullable=False),
        sa.UniqueConstraint("project_id", "job_id", "type", "attempt", name="uq_task_events_key"),
    )
    op.create_index("ix_task_events_ts", "task_events", ["ts"])
