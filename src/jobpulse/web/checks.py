"""Check pages: the list with filters, the detail with its history, the schedule editor."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import available_timezones

from fastapi import APIRouter, Depends, Request
from sqlalchemy import Connection, RowMapping
from starlette.responses import JSONResponse, RedirectResponse, Response

from jobpulse.api.checks import serialize_check
from jobpulse.api.deps import read, runtime_of
from jobpulse.domain.checks import Status
from jobpulse.domain.schedule import ScheduleError, upcoming
from jobpulse.runtime import Runtime
from jobpulse.store import checks as repo
from jobpulse.store import dashboard
from jobpulse.store.checks import SlugTaken
from jobpulse.store.projects import ping_key_of
from jobpulse.store.rows import schedule_of
from jobpulse.web import charts, check_forms
from jobpulse.web.access import (
    Access,
    PageError,
    PageForbidden,
    PageNotFound,
    project_access,
    writable_form,
)
from jobpulse.web.formatting import CHECK_TONES, ago, clock, duration
from jobpulse.web.templating import LIVE_HEADER, render

router = APIRouter(prefix="/p/{project_id}/checks", include_in_schema=False)

PAGE_SIZE = 50
HISTORY_WINDOW = timedelta(days=7)
TIMEZONES = sorted(available_timezones())
TAG = re.compile(r"^[A-Za-z0-9_.:-]{1,50}$")  # as the API validates tags


def _now() -> datetime:
    return datetime.now(UTC)


def _page_number(raw: str | None) -> int:
    return int(raw) if raw and raw.isdigit() and 0 < int(raw) < 100_000 else 1


@router.get("")
async def check_list(
    request: Request,
    access: Access = Depends(project_access),
    runtime: Runtime = Depends(runtime_of),
) -> Response:
    params = request.query_params
    status = params.get("status") if params.get("status") in set(Status) else None
    tag = params.get("tag") if TAG.match(params.get("tag", "")) else None
    search = (params.get("q") or "").strip()[:200] or None
    page = _page_number(params.get("page"))
    refreshing = bool(request.headers.get(LIVE_HEADER))

    def query(conn: Connection) -> dict[str, Any]:
        total, rows = repo.list_checks(
            conn,
            access.project_id,
            status=status,
            tag=tag,
            search=search,
            limit=PAGE_SIZE,
            offset=(page - 1) * PAGE_SIZE,
        )
        return {
            "total": total,
            "rows": rows,
            "durations": dashboard.recent_durations(conn, [r["id"] for r in rows]),
            # The filter bar is outside the live part: a refresh does not need its options.
            "counts": {} if refreshing else repo.status_counts(conn, access.project_id),
            "tags": [] if refreshing else dashboard.project_tags(conn, access.project_id),
        }

    found = await read(runtime, query)
    filters = {"status": status or "", "tag": tag or "", "q": search or ""}
    return render(
        request,
        "checks.html",
        {
            "access": access,
            "nav": "checks",
            **found,
            "filters": filters,
            "page": page,
            "pages": max(1, -(-found["total"] // PAGE_SIZE)),
            "query_without": lambda name: urlencode(
                {k: v for k, v in filters.items() if v and k != name}
            ),
        },
    )


def _form_page(
    request: Request,
    access: Access,
    form: check_forms.CheckForm,
    row: RowMapping | None = None,
    status: int = 200,
) -> Response:
    return render(
        request,
        "check_new.html",
        {
            "access": access,
            "nav": "checks",
            "form": form,
            "timezones": TIMEZONES,
            "row": row,
        },
        status,
    )


@router.get("/preview")
async def schedule_preview(request: Request, access: Access = Depends(project_access)) -> Response:
    """The next five expected times of the schedule being edited, in its timezone."""
    sent = {k: v for k, v in request.query_params.items() if k in check_forms.SCHEDULE_INPUTS}
    form, fields = check_forms.parse(sent | {"name": "preview"})
    if form.errors:
        return JSONResponse({"errors": form.errors}, status_code=422)
    try:
        schedule = check_forms.schedule_from(fields)
    except ScheduleError as exc:
        raise PageError(exc.reason) from None
    now = _now()
    times = upcoming(schedule, now, 5)
    return JSONResponse(
        {
            "times": [
                {"at": t.isoformat(), "local": clock(t, schedule.tz), "in": ago(t, now)}
                for t in times
            ]
        }
    )


@router.get("/new")
async def new_check_form(request: Request, access: Access = Depends(project_access)) -> Response:
    if not access.can_write:
        raise PageForbidden("Your role in this project is read-only.")
    return _form_page(request, access, check_forms.blank_form())


@router.post("")
async def create_check(
    request: Request,
    access: Access = Depends(project_access),
    runtime: Runtime = Depends(runtime_of),
) -> Response:
    form, fields = check_forms.parse(await writable_form(request, access))
    if not form.errors:
        spec = repo.CheckSpec(
            fields["name"],
            check_forms.schedule_from(fields),
            fields["slug"],
            fields["tags"],
            fields["description"],
        )
        try:
            row = await runtime.writer.run(repo.create_check, (access.project_id, spec, _now()))
        except SlugTaken as exc:
            form.errors["slug"] = exc.reason
        else:
            return RedirectResponse(f"/p/{access.project_id}/checks/{row['uuid']}", 303)
    return _form_page(request, access, form, status=422)


async def _existing(runtime: Runtime, access: Access, check_uuid: str) -> RowMapping:
    row = await read(runtime, repo.get_check, access.project_id, check_uuid.lower())
    if row is None:
        raise PageNotFound()
    return row


def _history_band(row: RowMapping, flips: list[RowMapping], start: datetime, now: datetime) -> Any:
    """The check's states from `start` to now; before its first flip it was in that flip's
    old state (or, with no flips at all, in its current one)."""
    changes = [(f["created_at"], f["new_status"]) for f in flips]
    if not flips or flips[0]["created_at"] >= start:
        changes.insert(0, (start, flips[0]["old_status"] if flips else row["status"]))
    segments = charts.band_segments(changes, start, now, CHECK_TONES)
    return charts.status_band(segments, "status over the last 7 days")


def _duration_chart(pings: list[RowMapping]) -> Any:
    timed = [p for p in reversed(pings) if p["duration_ms"] is not None][-60:]
    bars = [
        charts.Bar(
            p["duration_ms"],
            "bad" if p["kind"] == "fail" else "ok",
            f"{duration(p['duration_ms'])} at {p['created_at']:%d %b %H:%M:%S} UTC",
        )
        for p in timed
    ]
    return charts.bar_chart(bars, "run durations", slots=40) if bars else None


@router.get("/{check_uuid}")
async def check_detail(
    request: Request,
    check_uuid: str,
    access: Access = Depends(project_access),
    runtime: Runtime = Depends(runtime_of),
) -> Response:
    now = _now()
    row = await _existing(runtime, access, check_uuid)
    band_start = max(now - HISTORY_WINDOW, row["created_at"])

    def query(conn: Connection) -> dict[str, Any]:
        return {
            "pings": repo.list_pings(conn, row["id"], 100),
            "flips": repo.list_flips(conn, row["id"], 30),
            "band_flips": dashboard.flips_since(conn, row["id"], now - HISTORY_WINDOW),
            "ping_key": ping_key_of(conn, access.project_id),
        }

    found = await read(runtime, query)
    check = serialize_check(row, runtime.settings.base_url, found["ping_key"])
    return render(
        request,
        "check.html",
        {
            "access": access,
            "nav": "checks",
            "row": row,
            "check": check,
            **found,
            "upcoming": upcoming(schedule_of(row), now, 5),
            "band": _history_band(row, found["band_flips"], band_start, now),
            "band_label": "7 days ago"
            if band_start > row["created_at"]
            else f"created {ago(row['created_at'], now)}",
            "durations": _duration_chart(found["pings"]),
            "form": check_forms.form_from_row(row),
            "timezones": TIMEZONES,
            "base": f"/p/{access.project_id}/checks/{row['uuid']}",
        },
    )


@router.post("/{check_uuid}")
async def update_check(
    request: Request,
    check_uuid: str,
    access: Access = Depends(project_access),
    runtime: Runtime = Depends(runtime_of),
) -> Response:
    row = await _existing(runtime, access, check_uuid)
    form, fields = check_forms.parse(await writable_form(request, access))
    if not form.errors:
        change = repo.CheckChange(
            access.project_id, row["uuid"], fields, _now(), runtime.cron_tolerance
        )
        try:
            await runtime.writer.run(repo.update_check, change)
        except SlugTaken as exc:
            form.errors["slug"] = exc.reason
        except ScheduleError as exc:
            form.errors[exc.field] = exc.reason
        else:
            return RedirectResponse(f"/p/{access.project_id}/checks/{row['uuid']}", 303)
    return _form_page(request, access, form, row, status=422)


async def _set_paused(
    request: Request, check_uuid: str, access: Access, runtime: Runtime, paused: bool
) -> Response:
    await writable_form(request, access)
    row = await runtime.writer.run(
        repo.set_paused, (access.project_id, check_uuid.lower(), paused, _now())
    )
    if row is None:
        raise PageNotFound()
    return RedirectResponse(f"/p/{access.project_id}/checks/{row['uuid']}", 303)


@router.post("/{check_uuid}/pause")
async def pause_check(
    request: Request,
    check_uuid: str,
    access: Access = Depends(project_access),
    runtime: Runtime = Depends(runtime_of),
) -> Response:
    return await _set_paused(request, check_uuid, access, runtime, True)


@router.post("/{check_uuid}/resume")
async def resume_check(
    request: Request,
    check_uuid: str,
    access: Access = Depends(project_access),
    runtime: Runtime = Depends(runtime_of),
) -> Response:
    return await _set_paused(request, check_uuid, access, runtime, False)


@router.post("/{check_uuid}/delete")
async def delete_check(
    request: Request,
    check_uuid: str,
    access: Access = Depends(project_access),
    runtime: Runtime = Depends(runtime_of),
) -> Response:
    await writable_form(request, access)
    if not await runtime.writer.run(repo.delete_check, (access.project_id, check_uuid.lower())):
        raise PageNotFound()
    return RedirectResponse(f"/p/{access.project_id}/checks", 303)
