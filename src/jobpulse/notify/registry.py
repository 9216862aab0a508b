"""Every channel kind in one place: build a channel from its stored config, list secrets.

Adding a channel: write its module (a settings model and a class with `kind`,
`settings_model`, `__init__(settings)` and `send(notice)`), then add the class here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from jobpulse.notify.base import Channel, ChannelConfigError
from jobpulse.notify.discord import DiscordChannel
from jobpulse.notify.email import EmailChannel
from jobpulse.notify.ntfy import NtfyChannel
from jobpulse.notify.pagerduty import PagerDutyChannel
from jobpulse.notify.settings import ChannelSettings, parse_settings, secret_keys
from jobpulse.notify.slack import SlackChannel
from jobpulse.notify.teams import TeamsChannel
from jobpulse.notify.telegram import TelegramChannel
from jobpulse.notify.webhook import WebhookChannel

MASK = "********"


class ChannelClass(Protocol):
    """A channel class itself: what it is called, its settings, its constructor."""

    @property
    def kind(self) -> str: ...

    @property
    def settings_model(self) -> type[ChannelSettings]: ...

    def __call__(self, settings: Any) -> Channel: ...


def _by_kind(*classes: ChannelClass) -> dict[str, ChannelClass]:
    return {cls.kind: cls for cls in classes}


_CLASSES = _by_kind(
    EmailChannel,
    SlackChannel,
    TelegramChannel,
    DiscordChannel,
    TeamsChannel,
    PagerDutyChannel,
    NtfyChannel,
    WebhookChannel,
)

CHANNEL_KINDS: tuple[str, ...] = tuple(_CLASSES)


def _class_of(kind: str) -> ChannelClass:
    try:
        return _CLASSES[kind]
    except KeyError:
        raise ChannelConfigError("kind", f"must be one of {', '.join(CHANNEL_KINDS)}") from None


def validate_config(kind: str, config: Mapping[str, Any]) -> ChannelSettings:
    """Check a config without building a channel; ChannelConfigError names the bad field."""
    return parse_settings(_class_of(kind).settings_model, config)


def build_channel(kind: str, config: Mapping[str, Any]) -> Channel:
    """A ready channel of `kind`; ChannelConfigError names the first bad field."""
    return _class_of(kind)(validate_config(kind, config))


def secret_fields(kind: str) -> set[str]:
    """Config keys of `kind` whose values are secrets, for the API to mask."""
    return secret_keys(_class_of(kind).settings_model)


def masked_config(kind: str, config: Mapping[str, Any]) -> dict[str, Any]:
    """`config` with every secret that is set replaced by MASK (for API responses)."""
    secrets = secret_fields(kind)
    return {
        key: MASK if key in secrets and value not in (None, "", {}) else value
        for key, value in config.items()
    }


def config_schema(kind: str) -> dict[str, Any]:
    """JSON Schema of `kind`'s config (for forms and the API docs)."""
    return _class_of(kind).settings_model.model_json_schema(by_alias=True)
