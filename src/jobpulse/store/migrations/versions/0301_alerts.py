"""alerting: rules, channels, routes, silences, incidents, trackers, outbox, deliveries, probes

Revision ID: 0301
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from jobpulse.store.tables import BigId, Timestamp

revision = "0301"
down_revision = "0001"
branch_labels = None
depends_on = None


def _project() -> sa.Column[int]:
    return sa.Column(
        "project_id", sa.Integer, sa.ForeignKey("projects.id", ondelete="CASCADE"), nullable=False
    )


def _fk(
    name: str, target: str, ondelete: str, *, nullable: bool, type_: object = sa.Integer
) -> sa.Column[int]:
    return sa.Column(name, type_, sa.ForeignKey(target, ondelete=ondelete), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "alert_rules",
        sa.Column("id", sa.Integer, primary_key=True),
        _project(),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("severity", sa.String(10), nullable=False),
        sa.Column("scope_kind", sa.String(10), nullable=False),
        sa.Column("scope_value", sa.String(200), nullable=True),
        sa.Column("params", sa.JSON, nullable=False),
        sa.Column("window_s", sa.Float, nullable=False),
        sa.Column("hold_fire_s", sa.Float, nullable=False),
        sa.Column("hold_clear_s", sa.Float, nullable=False),
        sa.Column("repeat_s", sa.Float, nullable=True),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("builtin", sa.Boolean, nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("updated_at", Timestamp, nullable=False),
        sa.UniqueConstraint("project_id", "name", name="uq_alert_rules_project_name"),
    )
    op.create_table(
        "alert_channels",
        sa.Column("id", sa.Integer, primary_key=True),
        _project(),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("config", sa.JSON, nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("updated_at", Timestamp, nullable=False),
    )
    op.create_table(
        "alert_routes",
        sa.Column("id", sa.Integer, primary_key=True),
        _project(),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("severities", sa.JSON, nullable=False),
        sa.Column("matchers", sa.JSON, nullable=False),
        sa.Column("channel_ids", sa.JSON, nullable=False),
        sa.Column("is_default", sa.Boolean, nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
    )
    op.create_table(
        "alert_silences",
        sa.Column("id", sa.Integer, primary_key=True),
        _project(),
        sa.Column("comment", sa.Text, nullable=False),
        sa.Column("matchers", sa.JSON, nullable=False),
        sa.Column("starts_at", Timestamp, nullable=False),
        sa.Column("ends_at", Timestamp, nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
    )
    op.create_table(
        "incidents",
        sa.Column("id", sa.Integer, primary_key=True),
        _project(),
        _fk("rule_id", "alert_rules.id", "SET NULL", nullable=True),
        sa.Column("rule_name", sa.String(200), nullable=False),
        sa.Column("subject_key", sa.String(300), nullable=False),
        sa.Column("subject_label", sa.String(300), nullable=False),
        sa.Column("severity", sa.String(10), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("labels", sa.JSON, nullable=False),
        sa.Column("started_at", Timestamp, nullable=False),
        sa.Column("opened_at", Timestamp, nullable=False),
        sa.Column("acked_at", Timestamp, nullable=True),
        sa.Column("resolved_at", Timestamp, nullable=True),
        sa.Column("resolved_by", sa.String(10), nullable=True),
        sa.Column("last_notified_at", Timestamp, nullable=False),
    )
    op.create_index(
        "uq_incidents_unresolved",
        "incidents",
        ["rule_id", "subject_key"],
        unique=True,
        sqlite_where=sa.text("status != 'resolved'"),
        postgresql_where=sa.text("status != 'resolved'"),
    )
    op.create_index("ix_incidents_project_id", "incidents", ["project_id", "id"])
    op.create_table(
        "alert_trackers",
        sa.Column(
            "rule_id",
            sa.Integer,
            sa.ForeignKey("alert_rules.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("subject_key", sa.String(300), primary_key=True),
        sa.Column("firing", sa.Boolean, nullable=False),
        sa.Column("pending_since", Timestamp, nullable=True),
        sa.Column("incident_id", sa.Integer, nullable=True),
    )
    op.create_table(
        "alert_outbox",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        _project(),
        _fk("incident_id", "incidents.id", "CASCADE", nullable=True),
        _fk("channel_id", "alert_channels.id", "SET NULL", nullable=True),
        sa.Column("notice_id", sa.String(64), nullable=False, unique=True),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("silence_id", sa.Integer, nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", Timestamp, nullable=False),
        sa.Column("claimed_until", Timestamp, nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("delivered_at", Timestamp, nullable=True),
    )
    op.create_index("ix_alert_outbox_due", "alert_outbox", ["status", "next_attempt_at"])
    op.create_index("ix_alert_outbox_incident_id", "alert_outbox", ["incident_id"])
    op.create_table(
        "alert_deliveries",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        _fk("outbox_id", "alert_outbox.id", "CASCADE", nullable=False, type_=BigId),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("at", Timestamp, nullable=False),
        sa.Column("ok", sa.Boolean, nullable=False),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("duration_ms", sa.Float, nullable=False),
    )
    op.create_index("ix_alert_deliveries_outbox_id", "alert_deliveries", ["outbox_id"])
    op.create_table(
        "alert_probes",
        sa.Column("id", sa.Integer, primary_key=True),
        _project(),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("interval_s", sa.Float, nullable=False),
        sa.Column("timeout_s", sa.Float, nullable=False),
        sa.Column("tags", sa.JSON, nullable=False),
        sa.Column("deployed_at", Timestamp, nullable=True),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("next_poll_at", Timestamp, nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.UniqueConstraint("project_id", "name", name="uq_alert_probes_project_name"),
    )
    op.create_table(
        "alert_probe_samples",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        _fk("probe_id", "alert_probes.id", "CASCADE", nullable=False),
        sa.Column("at", Timestamp, nullable=False),
        sa.Column("ok", sa.Boolean, nullable=False),
        sa.Column("status_code", sa.Integer, nullable=True),
        sa.Column("latency_ms", sa.Float, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
    )
    op.create_index("ix_alert_probe_samples_probe_id_id", "alert_probe_samples", ["probe_id", "id"])


def downgrade() -> None:
    for table in (
        "alert_probe_samples",
        "alert_probes",
        "alert_deliveries",
        "alert_outbox",
        "alert_trackers",
        "incidents",
        "alert_silences",
        "alert_routes",
        "alert_channels",
        "alert_rules",
    ):
        op.drop_table(table)
