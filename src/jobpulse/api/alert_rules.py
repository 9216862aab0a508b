"""/api/v1/rules, /api/v1/routes and /api/v1/silences: what fires, where it goes, what is muted."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import RowMapping

from jobpulse.api.alert_common import (
    Matchers,
    create_row,
    delete_row,
    existing,
    iso,
    now,
    update_row,
)
from jobpulse.api.deps import principal, read, runtime_of
from jobpulse.api.errors import field_error
from jobpulse.domain.rules import RuleError, RuleKind, ScopeKind, Severity, validate_params
from jobpulse.runtime import Runtime
from jobpulse.store import alerts as repo
from jobpulse.store.projects import Principal

router = APIRouter(prefix="/api/v1", tags=["alerts"])


class ScopeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: ScopeKind = ScopeKind.ALL
    value: str | None = Field(default=None, min_length=1, max_length=200)

    @model_validator(mode="after")
    def _value_when_needed(self) -> ScopeIn:
        if self.kind != ScopeKind.ALL and self.value is None:
            raise ValueError(f"scope '{self.kind.value}' needs a value (a name or glob)")
        return self


class RuleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    kind: RuleKind
    severity: Severity = Severity.CRITICAL
    scope: ScopeIn = Field(default_factory=ScopeIn)
    params: dict[str, Any] = Field(default_factory=dict)
    window: float = Field(default=3600, gt=0, le=30 * 86400, description="seconds")
    hold_fire: float = Field(default=0, ge=0, le=30 * 86400, description="seconds")
    hold_clear: float = Field(default=0, ge=0, le=30 * 86400, description="seconds")
    repeat: float | None = Field(default=None, ge=60, le=30 * 86400, description="seconds")
    enabled: bool = True


class RulePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    kind: RuleKind | None = None
    severity: Severity | None = None
    scope: ScopeIn | None = None
    params: dict[str, Any] | None = None
    window: float | None = Field(default=None, gt=0, le=30 * 86400)
    hold_fire: float | None = Field(default=None, ge=0, le=30 * 86400)
    hold_clear: float | None = Field(default=None, ge=0, le=30 * 86400)
    repeat: float | None = Field(default=None, ge=60, le=30 * 86400)
    enabled: bool | None = None


def _rule_values(fields: dict[str, Any], kind: RuleKind) -> dict[str, Any]:
    """Body fields → columns; params are checked against the (new or current) kind."""
    values: dict[str, Any] = {}
    renames = {"window": "window_s", "hold_fire": "hold_fire_s", "hold_clear": "hold_clear_s"}
    for name, value in fields.items():
        if name in renames:
            values[renames[name]] = value
        elif name == "repeat":
            values["repeat_s"] = value
        elif name == "scope":
            values["scope_kind"] = value["kind"].value
            values["scope_value"] = value["value"]
        elif name in ("kind", "severity"):
            values[name] = value.value
        elif name != "params":
            values[name] = value
    if "params" in fields or "kind" in fields:
        try:
            values["params"] = validate_params(kind, fields.get("params") or {})
        except RuleError as exc:
            raise field_error(exc.field, exc.reason) from None
    return values


def serialize_rule(row: RowMapping) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "kind": row["kind"],
        "builtin": row["builtin"],
        "severity": row["severity"],
        "scope": {"kind": row["scope_kind"], "value": row["scope_value"]},
        "params": row["params"],
        "window": row["window_s"],
        "hold_fire": row["hold_fire_s"],
        "hold_clear": row["hold_clear_s"],
        "repeat": row["repeat_s"],
        "enabled": row["enabled"],
        "created_at": iso(row["created_at"]),
        "updated_at": iso(row["updated_at"]),
    }


@router.get("/rules")
async def list_rules(
    who: Principal = Depends(principal), runtime: Runtime = Depends(runtime_of)
) -> dict[str, Any]:
    rows = await read(runtime, repo.rules.list, who.project_id)
    return {"rules": [serialize_rule(row) for row in rows]}


@router.post("/rules", status_code=201)
async def create_rule(
    body: RuleIn, who: Principal = Depends(principal), runtime: Runtime = Depends(runtime_of)
) -> dict[str, Any]:
    values = _rule_values(body.model_dump(), body.kind)
    values["builtin"] = False
    return serialize_rule(await create_row(runtime, repo.rules, who, values))


@router.get("/rules/{rule_id}")
async def get_rule(
    rule_id: int, who: Principal = Depends(principal), runtime: Runtime = Depends(runtime_of)
) -> dict[str, Any]:
    return serialize_rule(await existing(runtime, repo.rules, who, rule_id))


@router.patch("/rules/{rule_id}")
async def update_rule(
    rule_id: int,
    body: RulePatch,
    who: Principal = Depends(principal),
    runtime: Runtime = Depends(runtime_of),
) -> dict[str, Any]:
    fields = body.model_dump(exclude_unset=True)
    for name in ("name", "kind", "severity", "scope", "params", "window", "enabled"):
        if name in fields and fields[name] is None:
            raise field_error(name, "must not be null")
    current = await existing(runtime, repo.rules, who, rule_id)
    kind = fields.get("kind") or RuleKind(current["kind"])
    if "kind" in fields and "params" not in fields:
        fields["params"] = {}
    values = _rule_values(fields, kind)
    return serialize_rule(await update_row(runtime, repo.rules, who, rule_id, values))


@router.delete("/rules/{rule_id}", status_code=204)
async def delete_rule(
    rule_id: int, who: Principal = Depends(principal), runtime: Runtime = Depends(runtime_of)
) -> Response:
    return await delete_row(runtime, repo.rules, who, rule_id)


# --- routes -------------------------------------------------------------------------------


class RouteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(default="", max_length=200)
    severities: list[Severity] = Field(default_factory=list, description="empty: any")
    matchers: Matchers = Field(default_factory=dict)
    channel_ids: list[int] = Field(min_length=1, max_length=50)
    is_default: bool = False


def serialize_route(row: RowMapping) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "severities": row["severities"],
        "matchers": row["matchers"],
        "channel_ids": row["channel_ids"],
        "is_default": row["is_default"],
        "created_at": iso(row["created_at"]),
    }


async def _route_values(runtime: Runtime, who: Principal, body: RouteIn) -> dict[str, Any]:
    known = await read(runtime, repo.channel_ids_of, who.project_id)
    unknown = [channel_id for channel_id in body.channel_ids if channel_id not in known]
    if unknown:
        raise field_error("channel_ids", f"no channel with id {unknown[0]} in this project")
    values = body.model_dump()
    values["severities"] = [severity.value for severity in body.severities]
    return values


@router.get("/routes")
async def list_routes(
    who: Principal = Depends(principal), runtime: Runtime = Depends(runtime_of)
) -> dict[str, Any]:
    rows = await read(runtime, repo.routes.list, who.project_id)
    return {"routes": [serialize_route(row) for row in rows]}


@router.post("/routes", status_code=201)
async def create_route(
    body: RouteIn, who: Principal = Depends(principal), runtime: Runtime = Depends(runtime_of)
) -> dict[str, Any]:
    values = await _route_values(runtime, who, body)
    return serialize_route(await create_row(runtime, repo.routes, who, values))


@router.put("/routes/{route_id}")
async def replace_route(
    route_id: int,
    body: RouteIn,
    who: Principal = Depends(principal),
    runtime: Runtime = Depends(runtime_of),
) -> dict[str, Any]:
    values = await _route_values(runtime, who, body)
    return serialize_route(await update_row(runtime, repo.routes, who, route_id, values))


@router.delete("/routes/{route_id}", status_code=204)
async def delete_route(
    route_id: int, who: Principal = Depends(principal), runtime: Runtime = Depends(runtime_of)
) -> Response:
    return await delete_row(runtime, repo.routes, who, route_id)


# --- silences -----------------------------------------------------------------------------


class SilenceIn(BaseModel):
    """A silence, or a maintenance window: notices matching are muted between the times."""

    model_config = ConfigDict(extra="forbid")

    comment: str = Field(default="", max_length=2000)
    matchers: Matchers = Field(default_factory=dict)
    starts_at: datetime | None = Field(default=None, description="default: now")
    ends_at: datetime

    @model_validator(mode="after")
    def _ordered(self) -> SilenceIn:
        for name in ("starts_at", "ends_at"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                raise ValueError(f"{name} needs a timezone (e.g. 2026-01-01T00:00:00Z)")
        if self.starts_at is not None and self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


def serialize_silence(row: RowMapping) -> dict[str, Any]:
    current = now()
    return {
        "id": row["id"],
        "comment": row["comment"],
        "matchers": row["matchers"],
        "starts_at": iso(row["starts_at"]),
        "ends_at": iso(row["ends_at"]),
        "active": row["starts_at"] <= current < row["ends_at"],
        "created_at": iso(row["created_at"]),
    }


@router.get("/silences")
async def list_silences(
    who: Principal = Depends(principal), runtime: Runtime = Depends(runtime_of)
) -> dict[str, Any]:
    rows = await read(runtime, repo.silences.list, who.project_id)
    return {"silences": [serialize_silence(row) for row in rows]}


@router.post("/silences", status_code=201)
async def create_silence(
    body: SilenceIn, who: Principal = Depends(principal), runtime: Runtime = Depends(runtime_of)
) -> dict[str, Any]:
    values = body.model_dump()
    values["starts_at"] = body.starts_at or now()
    if values["ends_at"] <= values["starts_at"]:
        raise field_error("ends_at", "must be in the future")
    return serialize_silence(await create_row(runtime, repo.silences, who, values))


@router.delete("/silences/{silence_id}", status_code=204)
async def delete_silence(
    silence_id: int, who: Principal = Depends(principal), runtime: Runtime = Depends(runtime_of)
) -> Response:
    return await delete_row(runtime, repo.silences, who, silence_id)


@router.get("/alerting")
async def alerting_status(
    who: Principal = Depends(principal), runtime: Runtime = Depends(runtime_of)
) -> dict[str, Any]:
    """This node's part in alerting: whether it leads the alert loop, and loop health."""
    alerting = runtime.alerting
    return {
        "leader": alerting.loop.is_leader,
        "alert_loop_error": alerting.loop.loop.last_error,
        "notifier_enabled": alerting.settings.notifier_enabled,
        "notifier_error": alerting.notifier.loop.last_error,
    }
