"""queue sources, queue samples, latest sample per queue, workers

Revision ID: 0201
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from jobpulse.store.tables import BigId, Timestamp

revision = "0201"
down_revision = "0001"
branch_labels = None
depends_on = None


def _fk(column: str, target: str, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(
        column, sa.Integer, sa.ForeignKey(target, ondelete="CASCADE"), nullable=nullable
    )


def upgrade() -> None:
    op.create_table(
        "queue_sources",
        sa.Column("id", sa.Integer, primary_key=True),
        _fk("project_id", "projects.id"),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("library", sa.String(20), nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("queues", sa.JSON, nullable=False),
        sa.Column("options", sa.JSON, nullable=False),
        sa.Column("interval_s", sa.Float, nullable=False),
        sa.Column("timeout_s", sa.Float, nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("last_sample_at", Timestamp, nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("updated_at", Timestamp, nullable=False),
        sa.UniqueConstraint("project_id", "name", name="uq_queue_sources_project_name"),
    )
    op.create_table(
        "queue_samples",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        _fk("source_id", "queue_sources.id"),
        sa.Column("queue", sa.String(200), nullable=False),
        sa.Column("taken_at", Timestamp, nullable=False),
        sa.Column("resolution_s", sa.Integer, nullable=False),
        sa.Column("ok", sa.Boolean, nullable=False),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("depth", sa.BigInteger, nullable=False),
        sa.Column("oldest_age_s", sa.Float, nullable=True),
        sa.Column("oldest_age_reason", sa.String(200), nullable=True),
        sa.Column("in_progress", sa.BigInteger, nullable=True),
        sa.Column("scheduled", sa.BigInteger, nullable=True),
        sa.Column("failed", sa.BigInteger, nullable=True),
        sa.Column("consumers", sa.Integer, nullable=True),
        sa.Column("processed_total", sa.BigInteger, nullable=True),
        sa.Column("abandoned", sa.BigInteger, nullable=True),
    )
    op.create_index(
        "ix_queue_samples_source_queue_taken", "queue_samples", ["source_id", "queue", "taken_at"]
    )
    op.create_index(
        "ix_queue_samples_resolution_taken", "queue_samples", ["resolution_s", "taken_at"]
    )
    op.create_table(
        "queue_latest",
        sa.Column(
            "source_id",
            sa.Integer,
            sa.ForeignKey("queue_sources.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("queue", sa.String(200), primary_key=True),
        sa.Column("sample_id", BigId, nullable=False),
        sa.Column("taken_at", Timestamp, nullable=False),
    )
    op.create_table(
        "workers",
        sa.Column("id", sa.Integer, primary_key=True),
        _fk("project_id", "projects.id"),
        sa.Column("origin", sa.String(40), nullable=False),
        _fk("source_id", "queue_sources.id", nullable=True),
        sa.Column("worker_id", sa.String(200), nullable=False),
        sa.Column("library", sa.String(20), nullable=True),
        sa.Column("hostname", sa.String(200), nullable=True),
        sa.Column("pid", sa.Integer, nullable=True),
        sa.Column("queues", sa.JSON, nullable=False),
        sa.Column("current_job", sa.String(200), nullable=True),
        sa.Column("heartbeat_interval_s", sa.Float, nullable=True),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("first_seen_at", Timestamp, nullable=False),
        sa.Column("last_seen_at", Timestamp, nullable=False),
        sa.UniqueConstraint("project_id", "origin", "worker_id", name="uq_workers_origin_id"),
    )
    op.create_index("ix_workers_last_seen", "workers", ["last_seen_at"])


def downgrade() -> None:
    op.drop_table("workers")
    op.drop_table("queue_latest")
    op.drop_table("queue_samples")
    op.drop_table("queue_sources")
