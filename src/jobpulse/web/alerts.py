"""Alerting pages: incidents (acknowledge, resolve), rules (enable, disable), channels
(send a test), silences (create, end)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import TypeAdapter, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from jobpulse.api.alert_common import Matchers
from jobpulse.api.channels import test_notice
from jobpulse.api.deps import read, runtime_of
from jobpulse.notify.base import ChannelConfigError, DeliveryError
from jobpulse.notify.registry import build_channel, masked_config
from jobpulse.runtime import Runtime
from jobpulse.store import alerts as repo
from jobpulse.store.alerts import Change
from jobpulse.web.access import Access, PageError, PageNotFound, project_access, writable_form
from jobpulse.web.templating import render

router = APIRouter(prefix="/p/{project_id}", include_in_schema=False)

INCIDENT_FILTERS = ("unresolved", "open", "acked", "resolved", "all")
INCIDENT_TONES = {"open": "bad", "acked": "warn", "resolved": "ok"}
SEVERITY_TONES = {"critical": "bad", "warning": "warn", "info": "info"}
SILENCE_HOURS = {"1": "1 hour", "4": "4 hours", "24": "1 day", "168": "1 week"}
_matchers = TypeAdapter(Matchers)


def _now() -> datetime:
    return datetime.now(UTC)


def _change(runtime: Runtime, access: Access, row_id: int | None = None, **values: Any) -> Change:
    return Change(access.project_id, _now(), row_id, values, runtime.settings.base_url)


def _tones() -> dict[str, Any]:
    return {"incident_tones": INCIDENT_TONES, "severity_tones": SEVERITY_TONES}


@router.get("/incidents")
async def incident_list(
    request: Request,
    access: Access = Depends(project_access),
    runtime: Runtime = Depends(runtime_of),
) -> Response:
    chosen = request.query_params.get("status", "unresolved")
    chosen = chosen if chosen in INCIDENT_FILTERS else "unresolved"
    status = None if chosen == "all" else chosen
    total, rows = await read(
        runtime, repo.list_incidents, access.project_id, status=status, limit=200
    )
    return render(
        request,
        "incidents.html",
        {
            "access": access,
            "nav": "incidents",
            "rows": rows,
            "total": total,
            "status": chosen,
            "filters": INCIDENT_FILTERS,
            **_tones(),
        },
    )


@router.get("/incidents/{incident_id}")
async def incident_detail(
    request: Request,
    incident_id: int,
    access: Access = Depends(project_access),
    runtime: Runtime = Depends(runtime_of),
) -> Response:
    found = await read(runtime, repo.incident_with_notices, access.project_id, incident_id)
    if found is None:
        raise PageNotFound()
    incident, notices = found
    return render(
        request,
        "incident.html",
        {
            "access": access,
            "nav": "incidents",
            "incident": incident,
            "notices": notices,
            **_tones(),
        },
    )


async def _incident_action(
    request: Request, incident_id: int, access: Access, runtime: Runtime, handler: Any
) -> Response:
    await writable_form(request, access)
    if await runtime.writer.run(handler, _change(runtime, access, incident_id)) is None:
        raise PageNotFound()
    target = request.headers.get("referer") or f"/p/{access.project_id}/incidents"
    same_site = target if target.startswith(str(request.base_url)) else None
    return RedirectResponse(same_site or f"/p/{access.project_id}/incidents", 303)


@router.post("/incidents/{incident_id}/ack")
async def ack_incident(
    request: Request,
    incident_id: int,
    access: Access = Depends(project_access),
    runtime: Runtime = Depends(runtime_of),
) -> Response:
    return await _incident_action(request, incident_id, access, runtime, repo.ack_incident)


@router.post("/incidents/{incident_id}/resolve")
async def resolve_incident(
    request: Request,
    incident_id: int,
    access: Access = Depends(project_access),
    runtime: Runtime = Depends(runtime_of),
) -> Response:
    return await _incident_action(request, incident_id, access, runtime, repo.resolve_incident)


@router.get("/rules")
async def rule_list(
    request: Request,
    access: Access = Depends(project_access),
    runtime: Runtime = Depends(runtime_of),
) -> Response:
    rows = await read(runtime, repo.rules.list, access.project_id)
    return render(
        request, "rules.html", {"access": access, "nav": "rules", "rows": rows, **_tones()}
    )


@router.post("/rules/{rule_id}/enabled")
async def set_rule_enabled(
    request: Request,
    rule_id: int,
    access: Access = Depends(project_access),
    runtime: Runtime = Depends(runtime_of),
) -> Response:
    form = await writable_form(request, access)
    change = _change(runtime, access, rule_id, enabled=form.get("enabled") == "true")
    if await runtime.writer.run(repo.rules.update, change) is None:
        raise PageNotFound()
    return RedirectResponse(f"/p/{access.project_id}/rules", 303)


@router.get("/channels")
async def channel_list(
    request: Request,
    access: Access = Depends(project_access),
    runtime: Runtime = Depends(runtime_of),
) -> Response:
    return await _channels_page(request, access, runtime)


async def _channels_page(
    request: Request, access: Access, runtime: Runtime, **extra: Any
) -> Response:
    rows = await read(runtime, repo.channels.list, access.project_id)
    shown = [{"row": row, "config": masked_config(row["kind"], row["config"])} for row in rows]
    context = {"access": access, "nav": "channels", "rows": shown, "result": None, **extra}
    return render(request, "channels.html", context)


@router.post("/channels/{channel_id}/test")
async def test_channel(
    request: Request,
    channel_id: int,
    access: Access = Depends(project_access),
    runtime: Runtime = Depends(runtime_of),
) -> Response:
    await writable_form(request, access)
    row = await read(runtime, repo.channels.get, access.project_id, channel_id)
    if row is None:
        raise PageNotFound()
    try:
        channel = build_channel(row["kind"], row["config"])
        await run_in_threadpool(channel.send, test_notice(runtime.settings.base_url, row["name"]))
    except (ChannelConfigError, DeliveryError) as exc:
        result = {"ok": False, "text": f"{row['name']}: the test failed: {exc}"}
    else:
        result = {"ok": True, "text": f"{row['name']}: test notice delivered."}
    return await _channels_page(request, access, runtime, result=result)


@router.get("/silences")
async def silence_list(
    request: Request,
    access: Access = Depends(project_access),
    runtime: Runtime = Depends(runtime_of),
) -> Response:
    rows = await read(runtime, repo.silences.list, access.project_id)
    return render(
        request,
        "silences.html",
        {
            "access": access,
            "nav": "silences",
            "rows": sorted(rows, key=lambda r: r["ends_at"], reverse=True),
            "hours": SILENCE_HOURS,
        },
    )


def _parse_matchers(text: str) -> dict[str, str]:
    """'queue=emails check=backup-*' → {"queue": "emails", "check": "backup-*"}."""
    pairs = [part.split("=", 1) for part in text.split() if part]
    if any(len(pair) != 2 for pair in pairs):
        raise PageError("Write matchers as label=glob pairs, e.g. queue=emails check=backup-*")
    try:
        return dict(_matchers.validate_python({k: v for k, v in pairs}))
    except ValidationError as exc:
        raise PageError(f"Matchers: {exc.errors()[0]['msg']}") from None


@router.post("/silences")
async def create_silence(
    request: Request,
    access: Access = Depends(project_access),
    runtime: Runtime = Depends(runtime_of),
) -> Response:
    form = await writable_form(request, access)
    hours = form.get("hours", "1")
    if hours not in SILENCE_HOURS:
        raise PageError("Choose how long the silence lasts.")
    now = _now()
    values = {
        "comment": form.get("comment", "").strip()[:2000],
        "matchers": _parse_matchers(form.get("matchers", "")),
        "starts_at": now,
        "ends_at": now + timedelta(hours=int(hours)),
    }
    await runtime.writer.run(repo.silences.create, _change(runtime, access, None, **values))
    return RedirectResponse(f"/p/{access.project_id}/silences", 303)


@router.post("/silences/{silence_id}/delete")
async def delete_silence(
    request: Request,
    silence_id: int,
    access: Access = Depends(project_access),
    runtime: Runtime = Depends(runtime_of),
) -> Response:
    await writable_form(request, access)
    await runtime.writer.run(repo.silences.delete, _change(runtime, access, silence_id))
    return RedirectResponse(f"/p/{access.project_id}/silences", 303)
