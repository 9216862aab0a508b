"""Tables of the dashboard's access control: users, project memberships, browser sessions."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, ForeignKey, Index, Integer, String, Table

from jobpulse.store.tables import Timestamp, metadata

ROLES = ("owner", "member", "read-only")

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("email", String(254), nullable=False, unique=True),
    Column("password_hash", String(200), nullable=False),
    Column("is_admin", Boolean, nullable=False, default=False),
    Column("created_at", Timestamp, nullable=False),
)

memberships = Table(
    "memberships",
    metadata,
    Column(
        "project_id",
        Integer,
        ForeignKey("projects.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("role", String(10), nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Index("ix_memberships_user_id", "user_id"),
)

web_sessions = Table(
    "web_sessions",
    metadata,
    # Only a hash of the cookie value is stored, so a database leak does not leak sessions.
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("expires_at", Timestamp, nullable=False),
    Index("ix_web_sessions_user_id", "user_id"),
)
