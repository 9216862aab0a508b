"""Who belongs to which project, with which role; projects and their API keys, as the
dashboard manages them."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, RowMapping, delete, func, insert, select, update

from jobpulse.store.projects import create_key
from jobpulse.store.rows import each
from jobpulse.store.tables import api_keys, projects
from jobpulse.store.users_tables import ROLES, memberships, users

OWNER, MEMBER, READ_ONLY = ROLES


class ProjectNameTaken(ValueError):
    def __init__(self, name: str) -> None:
        super().__init__(f"a project named {name!r} already exists")


class LastOwner(ValueError):
    def __init__(self) -> None:
        super().__init__("a project keeps at least one owner")


@dataclass(frozen=True)
class Membership:
    project_id: int
    user_id: int
    role: str
    now: datetime


def role_of(conn: Connection, user_id: int, project_id: int) -> str | None:
    query = select(memberships.c.role).where(
        memberships.c.user_id == user_id, memberships.c.project_id == project_id
    )
    role = conn.execute(query).scalar_one_or_none()
    return str(role) if role is not None else None


def projects_of(conn: Connection, user_id: int) -> list[RowMapping]:
    query = (
        select(projects.c.id, projects.c.name, projects.c.ping_key, memberships.c.role)
        .join(memberships, memberships.c.project_id == projects.c.id)
        .where(memberships.c.user_id == user_id)
        .order_by(projects.c.name)
    )
    return list(conn.execute(query).mappings())


def project_row(conn: Connection, project_id: int) -> RowMapping | None:
    return conn.execute(select(projects).where(projects.c.id == project_id)).mappings().first()


def members_of(conn: Connection, project_id: int) -> list[RowMapping]:
    query = (
        select(users.c.id, users.c.email, memberships.c.role, memberships.c.created_at)
        .join(memberships, memberships.c.user_id == users.c.id)
        .where(memberships.c.project_id == project_id)
        .order_by(users.c.email)
    )
    return list(conn.execute(query).mappings())


def _owners(conn: Connection, project_id: int) -> int:
    query = select(func.count()).where(
        memberships.c.project_id == project_id, memberships.c.role == OWNER
    )
    return int(conn.execute(query).scalar_one())


def _guard_last_owner(conn: Connection, project_id: int, user_id: int) -> None:
    if role_of(conn, user_id, project_id) == OWNER and _owners(conn, project_id) <= 1:
        raise LastOwner()


def upsert_membership(conn: Connection, membership: Membership) -> None:
    if membership.role not in ROLES:
        raise ValueError(f"unknown role {membership.role!r}")
    current = role_of(conn, membership.user_id, membership.project_id)
    if current is None:
        conn.execute(
            insert(memberships).values(
                project_id=membership.project_id,
                user_id=membership.user_id,
                role=membership.role,
                created_at=membership.now,
            )
        )
        return
    if current == OWNER and membership.role != OWNER:
        _guard_last_owner(conn, membership.project_id, membership.user_id)
    conn.execute(
        update(memberships)
        .where(
            memberships.c.project_id == membership.project_id,
            memberships.c.user_id == membership.user_id,
        )
        .values(role=membership.role)
    )


def _remove_member(conn: Connection, argument: tuple[int, int]) -> bool:
    project_id, user_id = argument
    _guard_last_owner(conn, project_id, user_id)
    result = conn.execute(
        delete(memberships).where(
            memberships.c.project_id == project_id, memberships.c.user_id == user_id
        )
    )
    return result.rowcount > 0


def insert_project(conn: Connection, argument: tuple[str, int, datetime]) -> int:
    """Create a project owned by the given user."""
    name, owner_id, now = argument
    if conn.execute(select(projects.c.id).where(projects.c.name == name)).first() is not None:
        raise ProjectNameTaken(name)
    result = conn.execute(
        insert(projects).values(name=name, ping_key=secrets.token_urlsafe(16), created_at=now)
    )
    project_id = int(result.inserted_primary_key[0])
    upsert_membership(conn, Membership(project_id, owner_id, OWNER, now))
    return project_id


def keys_of(conn: Connection, project_id: int) -> list[RowMapping]:
    query = (
        select(
            api_keys.c.id,
            api_keys.c.name,
            api_keys.c.prefix,
            api_keys.c.read_only,
            api_keys.c.created_at,
        )
        .where(api_keys.c.project_id == project_id)
        .order_by(api_keys.c.id.desc())
    )
    return list(conn.execute(query).mappings())


def _new_key(conn: Connection, argument: tuple[int, bool, str]) -> str:
    project_id, read_only, name = argument
    return create_key(conn, project_id, read_only=read_only, name=name)


def _revoke_key(conn: Connection, argument: tuple[int, int]) -> bool:
    project_id, key_id = argument
    result = conn.execute(
        delete(api_keys).where(api_keys.c.project_id == project_id, api_keys.c.id == key_id)
    )
    return result.rowcount > 0


set_membership = each(upsert_membership)
remove_member = each(_remove_member)
create_project = each(insert_project)
new_api_key = each(_new_key)
revoke_api_key = each(_revoke_key)
