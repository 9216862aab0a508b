"""Who is signed in, which project a page belongs to, and what they may do there.

A project page answers 404 to anyone who is not a member, exactly as if it did not exist,
so project ids cannot be probed. Every form post carries the session's CSRF token.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from fastapi import Depends, Request
from sqlalchemy import Connection, RowMapping
from starlette.datastructures import FormData

from jobpulse.api.deps import read, runtime_of
from jobpulse.runtime import Runtime
from jobpulse.store.members import MEMBER, OWNER, project_row, projects_of, role_of
from jobpulse.store.users import SessionUser, session_user

SESSION_COOKIE = "jobpulse_session"
LOGIN_CSRF_COOKIE = "jobpulse_login_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


class LoginRequired(Exception):
    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


class PageError(Exception):
    """Answer with an HTML error page: `status` and a sentence for the user."""

    status = 400
    title = "That did not work"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class PageNotFound(PageError):
    status = 404
    title = "Not found"

    def __init__(self, reason: str = "There is nothing here, or you cannot see it.") -> None:
        super().__init__(reason)


class PageForbidden(PageError):
    status = 403
    title = "Not allowed"


@dataclass(frozen=True)
class Access:
    """A signed-in user looking at one of their projects."""

    user: SessionUser
    project: RowMapping
    role: str
    projects: list[RowMapping] = field(default_factory=list)

    @property
    def project_id(self) -> int:
        return int(self.project["id"])

    @property
    def can_write(self) -> bool:
        return self.role in (OWNER, MEMBER)

    @property
    def is_owner(self) -> bool:
        return self.role == OWNER


def cookie_secure(request: Request) -> bool:
    setting = runtime_of(request).settings.cookie_secure
    if setting != "auto":
        return setting == "true"
    return request.url.scheme == "https" or request.url.hostname not in _LOOPBACK


def _now() -> datetime:
    return datetime.now(UTC)


async def signed_in(request: Request, runtime: Runtime = Depends(runtime_of)) -> SessionUser:
    token = request.cookies.get(SESSION_COOKIE)
    user = await read(runtime, session_user, token, _now()) if token else None
    if user is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(target)
    return user


async def project_access(
    project_id: int,
    user: SessionUser = Depends(signed_in),
    runtime: Runtime = Depends(runtime_of),
) -> Access:
    def lookup(conn: Connection) -> Access | None:
        role = role_of(conn, user.user_id, project_id)
        project = project_row(conn, project_id) if role else None
        if role is None or project is None:
            return None
        return Access(user, project, role, projects_of(conn, user.user_id))

    access = await read(runtime, lookup)
    if access is None:
        raise PageNotFound()
    return access


def csrf_valid(expected: str, request: Request, form: FormData | None) -> bool:
    sent = request.headers.get(CSRF_HEADER) or (form.get(CSRF_FIELD) if form else None)
    return isinstance(sent, str) and secrets.compare_digest(sent, expected)


async def signed_form(request: Request, user: SessionUser) -> dict[str, Any]:
    """The posted form, after checking its CSRF token against the user's session."""
    form = await request.form()
    if not csrf_valid(user.csrf_token, request, form):
        raise PageForbidden("The form expired or did not come from this site. Reload and retry.")
    return {key: value for key, value in form.multi_items() if isinstance(value, str)}


async def writable_form(request: Request, access: Access, *, owner: bool = False) -> dict[str, Any]:
    """The posted form of a user allowed to change this project (owners only if `owner`)."""
    form = await signed_form(request, access.user)
    if owner and not access.is_owner:
        raise PageForbidden("Only the project's owners can do this.")
    if not access.can_write:
        raise PageForbidden("Your role in this project is read-only.")
    return form


def login_url(next_url: str) -> str:
    return f"/login?next={quote(next_url)}"
