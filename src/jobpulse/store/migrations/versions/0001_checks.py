"""projects, api keys, checks, pings and flips

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from jobpulse.store.tables import BigId, Timestamp

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "projects",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("ping_key", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", Timestamp, nullable=False),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "project_id",
            sa.Integer,
            sa.ForeignKey("projects.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("read_only", sa.Boolean, nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
    )
    op.create_table(
        "checks",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("uuid", sa.String(36), nullable=False, unique=True),
        sa.Column(
            "project_id",
            sa.Integer,
            sa.ForeignKey("projects.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("slug", sa.String(200), nullable=True),
        sa.Column("tags", sa.JSON, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("period_s", sa.Float, nullable=False),
        sa.Column("grace_s", sa.Float, nullable=False),
        sa.Column("cron", sa.String(200), nullable=True),
        sa.Column("tz", sa.String(64), nullable=False),
        sa.Column("max_runtime_s", sa.Float, nullable=True),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("down_reason", sa.String(10), nullable=True),
        sa.Column("last_ping_at", Timestamp, nullable=True),
        sa.Column("started_at", Timestamp, nullable=True),
        sa.Column("start_rid", sa.String(64), nullable=True),
        sa.Column("next_expected_at", Timestamp, nullable=True),
        sa.Column("next_deadline_at", Timestamp, nullable=True),
        sa.Column("last_duration_ms", sa.Float, nullable=True),
        sa.Column("n_pings", sa.Integer, nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("updated_at", Timestamp, nullable=False),
        sa.UniqueConstraint("project_id", "slug", name="uq_checks_project_slug"),
    )
    op.create_index("ix_checks_next_deadline_at", "checks", ["next_deadline_at"])
    op.create_index("ix_checks_project_id", "checks", ["project_id", "id"])
    op.create_table(
        "pings",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column(
            "check_id", sa.Integer, sa.ForeignKey("checks.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("method", sa.String(10), nullable=False),
        sa.Column("remote_addr", sa.String(64), nullable=True),
        sa.Column("user_agent", sa.String(300), nullable=True),
        sa.Column("exit_status", sa.Integer, nullable=True),
        sa.Column("body", sa.Text, nullable=True),
        sa.Column("body_truncated", sa.Boolean, nullable=False),
        sa.Column("rid", sa.String(64), nullable=True),
        sa.Column("duration_ms", sa.Float, nullable=True),
    )
    op.create_index("ix_pings_check_id_id", "pings", ["check_id", "id"])
    # Most pings carry no rid: index only those that do.
    op.create_index(
        "ix_pings_check_id_rid",
        "pings",
        ["check_id", "rid"],
        sqlite_where=sa.text("rid IS NOT NULL"),
        postgresql_where=sa.text("rid IS NOT NULL"),
    )
    op.create_table(
        "flips",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column(
            "check_id", sa.Integer, sa.ForeignKey("checks.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("old_status", sa.String(10), nullable=False),
        sa.Column("new_status", sa.String(10), nullable=False),
        sa.Column("reason", sa.String(10), nullable=True),
    )
    op.create_index("ix_flips_check_id_id", "flips", ["check_id", "id"])


def downgrade() -> None:
    for table in ("flips", "pings", "checks", "api_keys", "projects"):
        op.drop_table(table)
