"""Signing in and out, the landing redirect, and creating projects."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from jobpulse.api.deps import read, runtime_of
from jobpulse.runtime import Runtime
from jobpulse.store import members, users
from jobpulse.web.access import (
    CSRF_FIELD,
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    PageError,
    PageForbidden,
    cookie_secure,
    signed_form,
    signed_in,
)
from jobpulse.web.formatting import span
from jobpulse.web.templating import render
from jobpulse.web.throttle import LoginThrottle

router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str:
    # Only same-site paths: "//evil.example" or "https://…" would be an open redirect.
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return "/"


def _login_page(request: Request, error: str = "", email: str = "", status: int = 200) -> Response:
    token = secrets.token_urlsafe(32)
    context = {
        "login_csrf": token,
        "error": error,
        "email": email,
        "next": _safe_next(request.query_params.get("next")),
    }
    response = render(request, "login.html", context, status)
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=cookie_secure(request),
        max_age=3600,
    )
    return response


@router.get("/login")
async def login_form(request: Request) -> Response:
    return _login_page(request)


@router.post("/login")
async def login(request: Request, runtime: Runtime = Depends(runtime_of)) -> Response:
    form = await request.form()
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    sent = form.get(CSRF_FIELD)
    if not expected or not isinstance(sent, str) or not secrets.compare_digest(sent, expected):
        raise PageForbidden("The sign-in form expired. Reload the page and sign in again.")
    email = str(form.get("email") or "").strip()
    password = str(form.get("password") or "")
    throttle: LoginThrottle = request.app.state.login_throttle
    address = request.client.host if request.client else ""
    wait = throttle.retry_after(users.normalise_email(email), address)
    if wait:
        message = f"Too many failed sign-ins. Try again in {span(wait)}."
        return _login_page(request, message, email, 429)
    user = await read(runtime, users.find_user, email) if email else None
    matches = await run_in_threadpool(
        users.password_matches, user["password_hash"] if user else None, password
    )
    if user is None or not matches:
        throttle.failed(users.normalise_email(email), address)
        return _login_page(request, "Wrong email or password.", email, 401)
    throttle.succeeded(users.normalise_email(email), address)
    token = users.new_session_token()
    await runtime.writer.run(
        users.open_session, users.NewSession(token, user["id"], datetime.now(UTC))
    )
    target = _safe_next(str(form.get("next") or "/"))
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=cookie_secure(request),
        max_age=int(users.SESSION_LIFETIME.total_seconds()),
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


@router.post("/logout")
async def logout(
    request: Request,
    user: users.SessionUser = Depends(signed_in),
    runtime: Runtime = Depends(runtime_of),
) -> Response:
    await signed_form(request, user)
    await runtime.writer.run(users.close_session, request.cookies[SESSION_COOKIE])
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/")
async def home(
    request: Request,
    user: users.SessionUser = Depends(signed_in),
    runtime: Runtime = Depends(runtime_of),
) -> Response:
    projects = await read(runtime, members.projects_of, user.user_id)
    if projects:
        return RedirectResponse(f"/p/{projects[0]['id']}/", status_code=303)
    return render(request, "no_project.html", {"user": user, "error": ""})


@router.post("/projects")
async def create_project(
    request: Request,
    user: users.SessionUser = Depends(signed_in),
    runtime: Runtime = Depends(runtime_of),
) -> Response:
    form: dict[str, Any] = await signed_form(request, user)
    if not user.is_admin:
        raise PageForbidden("Only administrators can create projects.")
    name = str(form.get("name", "")).strip()
    if not 1 <= len(name) <= 100:
        raise PageError("A project name has 1 to 100 characters.")
    try:
        project_id = await runtime.writer.run(
            members.create_project, (name, user.user_id, datetime.now(UTC))
        )
    except members.ProjectNameTaken as exc:
        raise PageError(str(exc)) from None
    return RedirectResponse(f"/p/{project_id}/", status_code=303)
