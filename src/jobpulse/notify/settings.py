"""Declarative channel settings: one pydantic model per channel kind.

A channel's settings model says which keys its config takes, which are required, their
bounds, and which are secrets (marked with `SECRET`, so the API can mask them). Validation
errors become `ChannelConfigError` naming the offending field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, TypeVar

import httpx
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from jobpulse.notify.base import ChannelConfigError

# Marks a setting the API must never show back: kept out of repr, flagged in the JSON schema.
SECRET = Field(repr=False, json_schema_extra={"secret": True})


def _http_url(value: str) -> str:
    try:
        url = httpx.URL(value)
    except httpx.InvalidURL:
        raise ValueError("is not a valid URL") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError("must be an http:// or https:// URL with a host")
    return value


def _one_line(value: str) -> str:
    if "\r" in value or "\n" in value:
        raise ValueError("must be a single line")
    return value


_EMAIL = re.compile(r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+\.?[^@\s<>,;\"]*$")


def _email_address(value: str) -> str:
    if not _EMAIL.match(value):
        raise ValueError("is not an email address")
    return value


HttpUrl = Annotated[str, Field(min_length=1, max_length=2000), AfterValidator(_http_url)]
OneLine = Annotated[str, Field(min_length=1, max_length=1000), AfterValidator(_one_line)]
EmailAddress = Annotated[str, Field(max_length=320), AfterValidator(_email_address)]


class ChannelSettings(BaseModel):
    """Settings every channel has; each channel's model extends it."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    timeout_seconds: float = Field(default=10.0, gt=0, le=120)

    def check(self) -> None:
        """Rules across fields; raise ChannelConfigError naming the field to fix."""


SettingsT = TypeVar("SettingsT", bound=ChannelSettings)


def field_name(location: tuple[int | str, ...]) -> str:
    """The dotted config key a validation error is about (`to.0`, `headers.X-Token`)."""
    return ".".join(str(part) for part in location if part != "[key]") or "config"


def parse_settings(model: type[SettingsT], config: Mapping[str, Any]) -> SettingsT:
    """Validate a channel config, raising ChannelConfigError for the first bad field."""
    if not isinstance(config, Mapping):
        raise ChannelConfigError("config", "must be an object")
    try:
        settings = model.model_validate(dict(config))
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        reason = str(first["msg"]).removeprefix("Value error, ")
        raise ChannelConfigError(field_name(tuple(first["loc"])), reason) from None
    settings.check()
    return settings


def secret_keys(model: type[ChannelSettings]) -> set[str]:
    """The config keys of `model` that hold secrets (their alias where they have one)."""
    return {
        field.alias or name
        for name, field in model.model_fields.items()
        if isinstance(field.json_schema_extra, dict) and field.json_schema_extra.get("secret")
    }
