"""Table definitions (SQLAlchemy Core). Times are stored as UTC epoch seconds (double)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.types import TypeDecorator

metadata = MetaData()

BigId = BigInteger().with_variant(Integer, "sqlite")


class Timestamp(TypeDecorator[datetime]):
    """An aware UTC datetime stored as epoch seconds: sortable, indexable, portable."""

    impl = Float(precision=53)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> float | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a Timestamp column")
        return value.timestamp()

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return datetime.fromtimestamp(float(value), tz=UTC)


projects = Table(
    "projects",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("ping_key", String(64), nullable=False, unique=True),
    Column("created_at", Timestamp, nullable=False),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("project_id", Integer, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(100), nullable=False, default=""),
    Column("prefix", String(16), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("read_only", Boolean, nullable=False, default=False),
    Column("created_at", Timestamp, nullable=False),
)

checks = Table(
    "checks",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("uuid", String(36), nullable=False, unique=True),
    Column("project_id", Integer, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("slug", String(200), nullable=True),
    Column("tags", JSON, nullable=False, default=list),
    Column("description", Text, nullable=False, default=""),
    Column("kind", String(10), nullable=False),
    Column("period_s", Float, nullable=False),
    Column("grace_s", Float, nullable=False),
    Column("cron", String(200), nullable=True),
    Column("tz", String(64), nullable=False, default="UTC"),
    Column("max_runtime_s", Float, nullable=True),
    Column("status", String(10), nullable=False),
    Column("down_reason", String(10), nullable=True),
    Column("last_ping_at", Timestamp, nullable=True),
    Column("started_at", Timestamp, nullable=True),
    Column("start_rid", String(64), nullable=True),
    Column("next_expected_at", Timestamp, nullable=True),
    Column("next_deadline_at", Timestamp, nullable=True),
    Column("last_duration_ms", Float, nullable=True),
    Column("n_pings", Integer, nullable=False, default=0),
    Column("created_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
    UniqueConstraint("project_id", "slug", name="uq_checks_project_slug"),
    Index("ix_checks_next_deadline_at", "next_deadline_at"),
    Index("ix_checks_project_id", "project_id", "id"),
)

pings = Table(
    "pings",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("check_id", Integer, ForeignKey("checks.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("kind", String(10), nullable=False),
    Column("method", String(10), nullable=False),
    Column("remote_addr", String(64), nullable=True),
    Column("user_agent", String(300), nullable=True),
    Column("exit_status", Integer, nullable=True),
    Column("body", Text, nullable=True),
    Column("body_truncated", Boolean, nullable=False, default=False),
    Column("rid", String(64), nullable=True),
    Column("duration_ms", Float, nullable=True),
    Index("ix_pings_check_id_id", "check_id", "id"),
    Index(
        "ix_pings_check_id_rid",
        "check_id",
        "rid",
        sqlite_where=text("rid IS NOT NULL"),
        postgresql_where=text("rid IS NOT NULL"),
    ),
)

flips = Table(
    "flips",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("check_id", Integer, ForeignKey("checks.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("old_status", String(10), nullable=False),
    Column("new_status", String(10), nullable=False),
    Column("reason", String(10), nullable=True),
    Index("ix_flips_check_id_id", "check_id", "id"),
)
