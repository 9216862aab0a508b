"""Projects and their API keys. Keys are random; only their SHA-256 is stored."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, insert, select

from jobpulse.store.tables import api_keys, projects

DEFAULT_PROJECT = "default"
KEY_PREFIX = "jp_"


@dataclass(frozen=True)
class Principal:
    """Who a request acts for: a project, and whether it may write."""

    project_id: int
    read_only: bool


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def ensure_project(conn: Connection, name: str = DEFAULT_PROJECT) -> int:
    found = conn.execute(select(projects.c.id).where(projects.c.name == name)).scalar_one_or_none()
    if found is not None:
        return int(found)
    result = conn.execute(
        insert(projects).values(
            name=name, ping_key=secrets.token_urlsafe(16), created_at=datetime.now(UTC)
        )
    )
    return int(result.inserted_primary_key[0])


def create_key(conn: Connection, project_id: int, *, read_only: bool, name: str = "") -> str:
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    conn.execute(
        insert(api_keys).values(
            project_id=project_id,
            name=name,
            prefix=key[:10],
            key_hash=hash_key(key),
            read_only=read_only,
            created_at=datetime.now(UTC),
        )
    )
    return key


def principal_for_key(conn: Connection, key: str) -> Principal | None:
    row = conn.execute(
        select(api_keys.c.project_id, api_keys.c.read_only).where(
            api_keys.c.key_hash == hash_key(key)
        )
    ).first()
    return Principal(row.project_id, bool(row.read_only)) if row else None


def ping_key_of(conn: Connection, project_id: int) -> str:
    return str(
        conn.execute(select(projects.c.ping_key).where(projects.c.id == project_id)).scalar_one()
    )
