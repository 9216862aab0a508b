"""Dashboard users and their browser sessions. Passwords are hashed with Argon2id."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, RowMapping, delete, insert, select, update

from jobpulse.store.rows import each
from jobpulse.store.users_tables import users, web_sessions

SESSION_LIFETIME = timedelta(days=14)
MIN_PASSWORD_LENGTH = 8

_hasher = PasswordHasher()
# Verified when the email is unknown, so a login takes as long whether or not the user exists.
_DUMMY_HASH = _hasher.hash("not a real password")


class EmailTaken(ValueError):
    def __init__(self, email: str) -> None:
        super().__init__(f"a user with email {email!r} already exists")


def normalise_email(email: str) -> str:
    return email.strip().lower()


def valid_email(email: str) -> bool:
    local, at, domain = email.partition("@")
    return bool(local and at and domain) and len(email) <= 254 and " " not in email


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def password_matches(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class NewUser:
    email: str
    password_hash: str
    is_admin: bool
    created_at: datetime


def insert_user(conn: Connection, new: NewUser) -> int:
    email = normalise_email(new.email)
    if find_user(conn, email) is not None:
        raise EmailTaken(email)
    result = conn.execute(
        insert(users).values(
            email=email,
            password_hash=new.password_hash,
            is_admin=new.is_admin,
            created_at=new.created_at,
        )
    )
    return int(result.inserted_primary_key[0])


def set_password(conn: Connection, argument: tuple[int, str]) -> None:
    user_id, password_hash = argument
    conn.execute(update(users).where(users.c.id == user_id).values(password_hash=password_hash))


def find_user(conn: Connection, email: str) -> RowMapping | None:
    query = select(users).where(users.c.email == normalise_email(email))
    return conn.execute(query).mappings().first()


@dataclass(frozen=True)
class SessionUser:
    """The signed-in user behind a session cookie, with the session's CSRF token."""

    user_id: int
    email: str
    is_admin: bool
    csrf_token: str


@dataclass(frozen=True)
class NewSession:
    token: str
    user_id: int
    now: datetime


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


def _open_session(conn: Connection, new: NewSession) -> str:
    csrf_token = secrets.token_urlsafe(32)
    conn.execute(
        insert(web_sessions).values(
            token_hash=_token_hash(new.token),
            user_id=new.user_id,
            csrf_token=csrf_token,
            created_at=new.now,
            expires_at=new.now + SESSION_LIFETIME,
        )
    )
    # Expired sessions of this user go when they sign in again: no sweeper needed.
    conn.execute(
        delete(web_sessions).where(
            web_sessions.c.user_id == new.user_id, web_sessions.c.expires_at < new.now
        )
    )
    return csrf_token


def _close_session(conn: Connection, token: str) -> None:
    conn.execute(delete(web_sessions).where(web_sessions.c.token_hash == _token_hash(token)))


create_user = each(insert_user)
change_password = each(set_password)
open_session = each(_open_session)
close_session = each(_close_session)


def session_user(conn: Connection, token: str, now: datetime) -> SessionUser | None:
    query = (
        select(users.c.id, users.c.email, users.c.is_admin, web_sessions.c.csrf_token)
        .join(users, users.c.id == web_sessions.c.user_id)
        .where(web_sessions.c.token_hash == _token_hash(token), web_sessions.c.expires_at > now)
    )
    row = conn.execute(query).first()
    if row is None:
        return None
    return SessionUser(row.id, row.email, bool(row.is_admin), row.csrf_token)
