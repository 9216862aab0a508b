"""/api/v1/channels: where notices go. Secrets in a channel's config are never shown back:
they read as "********", and sending "********" back in an update keeps the stored value."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import RowMapping
from starlette.concurrency import run_in_threadpool

from jobpulse.api.alert_common import create_row, delete_row, existing, iso, now, update_row
from jobpulse.api.deps import principal, read, runtime_of
from jobpulse.api.errors import ApiError, field_error
from jobpulse.notify.base import ChannelConfigError, DeliveryError, Notice, NoticeKind
from jobpulse.notify.registry import CHANNEL_KINDS, MASK, build_channel, masked_config
from jobpulse.notify.registry import validate_config as validate_channel_config
from jobpulse.runtime import Runtime
from jobpulse.store import alerts as repo
from jobpulse.store.projects import Principal

router = APIRouter(prefix="/api/v1/channels", tags=["alerts"])


class ChannelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    kind: str = Field(description=f"one of: {', '.join(CHANNEL_KINDS)}")
    config: dict[str, Any] = Field(default_factory=dict)
    enabled: bool = True


class ChannelPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    config: dict[str, Any] | None = None
    enabled: bool | None = None


def serialize_channel(row: RowMapping) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "kind": row["kind"],
        "config": masked_config(row["kind"], row["config"]),
        "enabled": row["enabled"],
        "created_at": iso(row["created_at"]),
        "updated_at": iso(row["updated_at"]),
    }


def _validated(kind: str, config: dict[str, Any]) -> dict[str, Any]:
    try:
        validate_channel_config(kind, config)
    except ChannelConfigError as exc:
        name = exc.field if exc.field == "kind" else f"config.{exc.field}"
        raise field_error(name, exc.reason) from None
    return config


def _unmasked(new: dict[str, Any], stored: dict[str, Any]) -> dict[str, Any]:
    """`new` with every masked secret replaced by the stored value it stands for."""
    return {key: stored.get(key) if value == MASK else value for key, value in new.items()}


@router.get("")
async def list_channels(
    who: Principal = Depends(principal), runtime: Runtime = Depends(runtime_of)
) -> dict[str, Any]:
    rows = await read(runtime, repo.channels.list, who.project_id)
    return {"channels": [serialize_channel(row) for row in rows], "kinds": list(CHANNEL_KINDS)}


@router.post("", status_code=201)
async def create_channel(
    body: ChannelIn, who: Principal = Depends(principal), runtime: Runtime = Depends(runtime_of)
) -> dict[str, Any]:
    values = body.model_dump()
    values["config"] = _validated(body.kind, body.config)
    return serialize_channel(await create_row(runtime, repo.channels, who, values))


@router.get("/{channel_id}")
async def get_channel(
    channel_id: int, who: Principal = Depends(principal), runtime: Runtime = Depends(runtime_of)
) -> dict[str, Any]:
    return serialize_channel(await existing(runtime, repo.channels, who, channel_id))


@router.patch("/{channel_id}")
async def update_channel(
    channel_id: int,
    body: ChannelPatch,
    who: Principal = Depends(principal),
    runtime: Runtime = Depends(runtime_of),
) -> dict[str, Any]:
    current = await existing(runtime, repo.channels, who, channel_id)
    values = body.model_dump(exclude_unset=True)
    for name in ("name", "config", "enabled"):
        if name in values and values[name] is None:
            raise field_error(name, "must not be null")
    if "config" in values:
        config = _unmasked(values["config"], current["config"])
        values["config"] = _validated(current["kind"], config)
    return serialize_channel(await update_row(runtime, repo.channels, who, channel_id, values))


@router.delete("/{channel_id}", status_code=204)
async def delete_channel(
    channel_id: int, who: Principal = Depends(principal), runtime: Runtime = Depends(runtime_of)
) -> Response:
    return await delete_row(runtime, repo.channels, who, channel_id)


def test_notice(base_url: str, channel_name: str) -> Notice:
    return Notice(
        id=uuid.uuid4().hex,
        kind=NoticeKind.TEST,
        severity="info",
        title=f"Test notification for channel {channel_name!r}",
        subject="jobpulse",
        since=now(),
        summary="If you can read this, the channel works.",
        url=base_url,
        dedup_key=f"jobpulse-test-{uuid.uuid4().hex}",
    )


@router.post("/{channel_id}/test")
async def send_test(
    channel_id: int, who: Principal = Depends(principal), runtime: Runtime = Depends(runtime_of)
) -> dict[str, Any]:
    """Send a test notice now, through the channel as configured; 502 if it fails."""
    row = await existing(runtime, repo.channels, who, channel_id)
    notice = test_notice(runtime.settings.base_url, row["name"])
    try:
        channel = build_channel(row["kind"], row["config"])
        await run_in_threadpool(channel.send, notice)
    except ChannelConfigError as exc:
        raise field_error(f"config.{exc.field}", exc.reason) from None
    except DeliveryError as exc:
        detail = {"notice_id": notice.id, "reason": str(exc), "retryable": exc.retryable}
        raise ApiError(502, "delivery failed", detail) from None
    return {"delivered": True, "notice_id": notice.id}
