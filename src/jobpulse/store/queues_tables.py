"""Tables of the queues area: declared sources, queue samples and workers."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
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
)

from jobpulse.store.tables import BigId, Timestamp, metadata

queue_sources = Table(
    "queue_sources",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("project_id", Integer, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("library", String(20), nullable=False),
    # Holds the password; the API only ever shows it masked.
    Column("url", Text, nullable=False),
    Column("queues", JSON, nullable=False, default=list),
    Column("options", JSON, nullable=False, default=dict),
    Column("interval_s", Float, nullable=False),
    Column("timeout_s", Float, nullable=False),
    Column("enabled", Boolean, nullable=False, default=True),
    Column("last_sample_at", Timestamp, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("created_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
    UniqueConstraint("project_id", "name", name="uq_queue_sources_project_name"),
)

queue_samples = Table(
    "queue_samples",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column(
        "source_id", Integer, ForeignKey("queue_sources.id", ondelete="CASCADE"), nullable=False
    ),
    Column("queue", String(200), nullable=False),
    Column("taken_at", Timestamp, nullable=False),
    # Seconds summarised by this row: 0 raw, 60 per minute, 3600 per hour.
    Column("resolution_s", Integer, nullable=False, default=0),
    Column("ok", Boolean, nullable=False, default=True),
    Column("error", Text, nullable=True),
    Column("depth", BigInteger, nullable=False, default=0),
    Column("oldest_age_s", Float, nullable=True),
    Column("oldest_age_reason", String(200), nullable=True),
    Column("in_progress", BigInteger, nullable=True),
    Column("scheduled", BigInteger, nullable=True),
    Column("failed", BigInteger, nullable=True),
    Column("consumers", Integer, nullable=True),
    Column("processed_total", BigInteger, nullable=True),
    Column("abandoned", BigInteger, nullable=True),
    Index("ix_queue_samples_source_queue_taken", "source_id", "queue", "taken_at"),
    Index("ix_queue_samples_resolution_taken", "resolution_s", "taken_at"),
)

# The newest sample of each queue, so listing queues never scans the history.
queue_latest = Table(
    "queue_latest",
    metadata,
    Column(
        "source_id", Integer, ForeignKey("queue_sources.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("queue", String(200), primary_key=True),
    Column("sample_id", BigId, nullable=False),
    Column("taken_at", Timestamp, nullable=False),
)

workers = Table(
    "workers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("project_id", Integer, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    # "sdk" for SDK heartbeats, else "source:<id>": the same id from two origins is two rows.
    Column("origin", String(40), nullable=False),
    Column("source_id", Integer, ForeignKey("queue_sources.id", ondelete="CASCADE"), nullable=True),
    Column("worker_id", String(200), nullable=False),
    Column("library", String(20), nullable=True),
    Column("hostname", String(200), nullable=True),
    Column("pid", Integer, nullable=True),
    Column("queues", JSON, nullable=False, default=list),
    Column("current_job", String(200), nullable=True),
    Column("heartbeat_interval_s", Float, nullable=True),
    # "online", or "offline" once the worker said it stopped (SDK heartbeats).
    Column("state", String(10), nullable=False, default="online"),
    Column("first_seen_at", Timestamp, nullable=False),
    Column("last_seen_at", Timestamp, nullable=False),
    UniqueConstraint("project_id", "origin", "worker_id", name="uq_workers_origin_id"),
    Index("ix_workers_last_seen", "last_seen_at"),
)
