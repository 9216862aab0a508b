"""Tables of the alerting engine: rules, channels, routes, silences, trackers, incidents,
the notice outbox and its delivery log, and HTTP probes with their samples."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from jobpulse.store.tables import BigId, Timestamp, metadata


def _project() -> Column[int]:
    return Column(
        "project_id", Integer, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False
    )


alert_rules = Table(
    "alert_rules",
    metadata,
    Column("id", Integer, primary_key=True),
    _project(),
    Column("name", String(200), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("severity", String(10), nullable=False),
    Column("scope_kind", String(10), nullable=False),
    Column("scope_value", String(200), nullable=True),
    Column("params", JSON, nullable=False),
    Column("window_s", Float, nullable=False),
    Column("hold_fire_s", Float, nullable=False),
    Column("hold_clear_s", Float, nullable=False),
    Column("repeat_s", Float, nullable=True),
    Column("enabled", Boolean, nullable=False),
    Column("builtin", Boolean, nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
    UniqueConstraint("project_id", "name", name="uq_alert_rules_project_name"),
)

alert_channels = Table(
    "alert_channels",
    metadata,
    Column("id", Integer, primary_key=True),
    _project(),
    Column("name", String(200), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("config", JSON, nullable=False),  # holds secrets: never returned unmasked
    Column("enabled", Boolean, nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
)

alert_routes = Table(
    "alert_routes",
    metadata,
    Column("id", Integer, primary_key=True),
    _project(),
    Column("name", String(200), nullable=False),
    Column("severities", JSON, nullable=False),
    Column("matchers", JSON, nullable=False),
    Column("channel_ids", JSON, nullable=False),
    Column("is_default", Boolean, nullable=False),
    Column("created_at", Timestamp, nullable=False),
)

alert_silences = Table(
    "alert_silences",
    metadata,
    Column("id", Integer, primary_key=True),
    _project(),
    Column("comment", Text, nullable=False),
    Column("matchers", JSON, nullable=False),
    Column("starts_at", Timestamp, nullable=False),
    Column("ends_at", Timestamp, nullable=False),
    Column("created_at", Timestamp, nullable=False),
)

incidents = Table(
    "incidents",
    metadata,
    Column("id", Integer, primary_key=True),
    _project(),
    Column("rule_id", Integer, ForeignKey("alert_rules.id", ondelete="SET NULL"), nullable=True),
    Column("rule_name", String(200), nullable=False),
    Column("subject_key", String(300), nullable=False),
    Column("subject_label", String(300), nullable=False),
    Column("severity", String(10), nullable=False),
    Column("status", String(10), nullable=False),  # open | acked | resolved
    Column("summary", Text, nullable=False),
    Column("labels", JSON, nullable=False),
    Column("started_at", Timestamp, nullable=False),
    Column("opened_at", Timestamp, nullable=False),
    Column("acked_at", Timestamp, nullable=True),
    Column("resolved_at", Timestamp, nullable=True),
    Column("resolved_by", String(10), nullable=True),  # rule | api
    Column("last_notified_at", Timestamp, nullable=False),
    # At most one unresolved incident per (rule, subject), whatever races happen.
    Index(
        "uq_incidents_unresolved",
        "rule_id",
        "subject_key",
        unique=True,
        sqlite_where=text("status != 'resolved'"),
        postgresql_where=text("status != 'resolved'"),
    ),
    Index("ix_incidents_project_id", "project_id", "id"),
)

alert_trackers = Table(
    "alert_trackers",
    metadata,
    Column("rule_id", Integer, ForeignKey("alert_rules.id", ondelete="CASCADE"), primary_key=True),
    Column("subject_key", String(300), primary_key=True),
    Column("firing", Boolean, nullable=False),
    Column("pending_since", Timestamp, nullable=True),
    Column("incident_id", Integer, nullable=True),
)

alert_outbox = Table(
    "alert_outbox",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    _project(),
    Column("incident_id", Integer, ForeignKey("incidents.id", ondelete="CASCADE"), nullable=True),
    Column(
        "channel_id", Integer, ForeignKey("alert_channels.id", ondelete="SET NULL"), nullable=True
    ),
    Column("notice_id", String(64), nullable=False, unique=True),
    Column("kind", String(10), nullable=False),
    Column("payload", JSON, nullable=False),
    # pending | sending | delivered | failed | suppressed | unrouted
    Column("status", String(10), nullable=False),
    Column("silence_id", Integer, nullable=True),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", Timestamp, nullable=False),
    Column("claimed_until", Timestamp, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("created_at", Timestamp, nullable=False),
    Column("delivered_at", Timestamp, nullable=True),
    Index("ix_alert_outbox_due", "status", "next_attempt_at"),
    Index("ix_alert_outbox_incident_id", "incident_id"),
)

alert_deliveries = Table(
    "alert_deliveries",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("outbox_id", BigId, ForeignKey("alert_outbox.id", ondelete="CASCADE"), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("at", Timestamp, nullable=False),
    Column("ok", Boolean, nullable=False),
    Column("error", Text, nullable=True),
    Column("duration_ms", Float, nullable=False),
    Index("ix_alert_deliveries_outbox_id", "outbox_id"),
)

alert_probes = Table(
    "alert_probes",
    metadata,
    Column("id", Integer, primary_key=True),
    _project(),
    Column("name", String(200), nullable=False),
    Column("url", String(2000), nullable=False),
    Column("interval_s", Float, nullable=False),
    Column("timeout_s", Float, nullable=False),
    Column("tags", JSON, nullable=False),
    Column("deployed_at", Timestamp, nullable=True),
    Column("enabled", Boolean, nullable=False),
    Column("next_poll_at", Timestamp, nullable=False),
    Column("created_at", Timestamp, nullable=False),
    UniqueConstraint("project_id", "name", name="uq_alert_probes_project_name"),
)

alert_probe_samples = Table(
    "alert_probe_samples",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("probe_id", Integer, ForeignKey("alert_probes.id", ondelete="CASCADE"), nullable=False),
    Column("at", Timestamp, nullable=False),
    Column("ok", Boolean, nullable=False),
    Column("status_code", Integer, nullable=True),
    Column("latency_ms", Float, nullable=True),
    Column("error", Text, nullable=True),
    Index("ix_alert_probe_samples_probe_id_id", "probe_id", "id"),
)
