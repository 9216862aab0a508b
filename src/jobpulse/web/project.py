"""Project pages: the overview, and settings (members, roles, API keys)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from jobpulse.api.deps import read, runtime_of
from jobpulse.runtime import Runtime
from jobpulse.store import alerts, dashboard, members, users
from jobpulse.store import checks as check_repo
from jobpulse.store import tasks_queries as task_queries
from jobpulse.store.users_tables import ROLES
from jobpulse.web import task_charts
from jobpulse.web.access import Access, PageError, project_access, writable_form
from jobpulse.web.templating import render

router = APIRouter(prefix="/p/{project_id}", include_in_schema=False)


@router.get("/")
async def overview(
    request: Request,
    access: Access = Depends(project_access),
    runtime: Runtime = Depends(runtime_of),
) -> Response:
    now = datetime.now(UTC)

    def query(conn: Connection) -> dict[str, Any]:
        project_id = access.project_id
        _, attention = check_repo.list_checks(conn, project_id, status="down", limit=10)
        _, late = check_repo.list_checks(conn, project_id, status="late", limit=10)
        has_tasks = dashboard.has_task_runs(conn, project_id)
        failed = task_queries.TaskFilter(is_failed=True)
        return {
            "counts": check_repo.status_counts(conn, project_id),
            "attention": [*attention, *late],
            "flips": dashboard.recent_flips(conn, project_id, 8),
            "incidents": alerts.list_incidents(conn, project_id, status="unresolved", limit=8),
            "task_charts": task_charts.build(conn, project_id, now) if has_tasks else None,
            "failures": task_queries.list_runs(
                conn, project_id, failed, task_queries.Page(page_size=8)
            ).rows
            if has_tasks
            else [],
        }

    found = await read(runtime, query)
    return render(request, "overview.html", {"access": access, "nav": "overview", **found})


async def _settings_page(
    request: Request, access: Access, runtime: Runtime, **extra: Any
) -> Response:
    def query(conn: Connection) -> dict[str, Any]:
        return {
            "members": members.members_of(conn, access.project_id),
            "keys": members.keys_of(conn, access.project_id),
        }

    found = await read(runtime, query)
    context = {
        "access": access,
        "nav": "settings",
        "roles": ROLES,
        "new_key": None,
        "error": "",
        **found,
        **extra,
    }
    return render(request, "settings.html", context, 422 if context["error"] else 200)


@router.get("/settings")
async def settings(
    request: Request,
    access: Access = Depends(project_access),
    runtime: Runtime = Depends(runtime_of),
) -> Response:
    return await _settings_page(request, access, runtime)


def _back(access: Access) -> Response:
    return RedirectResponse(f"/p/{access.project_id}/settings", status_code=303)


@router.post("/settings/members")
async def add_member(
    request: Request,
    access: Access = Depends(project_access),
    runtime: Runtime = Depends(runtime_of),
) -> Response:
    """Give a user a role here; a new email needs a password and creates the account."""
    form = await writable_form(request, access, owner=True)
    email = users.normalise_email(form.get("email", ""))
    role = form.get("role", "")
    password = form.get("password", "")
    if role not in ROLES or not users.valid_email(email):
        return await _settings_page(request, access, runtime, error="Give an email and a role.")
    now = datetime.now(UTC)
    user = await read(runtime, users.find_user, email)
    if user is None:
        if len(password) < users.MIN_PASSWORD_LENGTH:
            return await _settings_page(
                request,
                access,
                runtime,
                error=f"{email} has no account yet: give them a password of at least "
                f"{users.MIN_PASSWORD_LENGTH} characters.",
            )
        password_hash = await run_in_threadpool(users.hash_password, password)
        user_id = await runtime.writer.run(
            users.create_user, users.NewUser(email, password_hash, False, now)
        )
    else:
        user_id = user["id"]
    await _change(
        runtime, members.set_membership, members.Membership(access.project_id, user_id, role, now)
    )
    return _back(access)


async def _change(runtime: Runtime, handler: Any, argument: Any) -> Any:
    try:
        return await runtime.writer.run(handler, argument)
    except members.LastOwner as exc:
        raise PageError(str(exc)) from None


@router.post("/settings/members/{user_id}/remove")
async def remove_member(
    request: Request,
    user_id: int,
    access: Access = Depends(project_access),
    runtime: Runtime = Depends(runtime_of),
) -> Response:
    await writable_form(request, access, owner=True)
    await _change(runtime, members.remove_member, (access.project_id, user_id))
    return _back(access)


@router.post("/settings/keys")
async def create_key(
    request: Request,
    access: Access = Depends(project_access),
    runtime: Runtime = Depends(runtime_of),
) -> Response:
    form = await writable_form(request, access, owner=True)
    name = form.get("name", "").strip()[:100]
    read_only = form.get("read_only") == "on"
    key = await runtime.writer.run(members.new_api_key, (access.project_id, read_only, name))
    return await _settings_page(request, access, runtime, new_key=key)


@router.post("/settings/keys/{key_id}/revoke")
async def revoke_key(
    request: Request,
    key_id: int,
    access: Access = Depends(project_access),
    runtime: Runtime = Depends(runtime_of),
) -> Response:
    await writable_form(request, access, owner=True)
    await runtime.writer.run(members.revoke_api_key, (access.project_id, key_id))
    return _back(access)
