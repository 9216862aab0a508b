"""Telegram bot: sendMessage with HTML formatting to one chat."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import Field, field_validator

from jobpulse.notify.base import Notice
from jobpulse.notify.http import JsonPostChannel
from jobpulse.notify.render import HTML, message
from jobpulse.notify.settings import SECRET, ChannelSettings, HttpUrl

DEFAULT_API_BASE_URL = "https://api.telegram.org"

BotToken = Annotated[str, Field(pattern=r"^[0-9]{1,20}:[A-Za-z0-9_-]{20,100}$")]
_CHANNEL_USERNAME = re.compile(r"^@[A-Za-z][A-Za-z0-9_]{3,31}$")


class TelegramSettings(ChannelSettings):
    bot_token: Annotated[BotToken, SECRET]
    chat_id: int | str
    message_thread_id: int | None = Field(default=None, gt=0)
    api_base_url: HttpUrl = DEFAULT_API_BASE_URL

    @field_validator("chat_id", mode="before")
    @classmethod
    def _chat(cls, value: object) -> int | str:
        """A numeric chat id (negative for groups) or a public channel's @username."""
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and re.fullmatch(r"-?[0-9]{1,20}", value):
            return int(value)
        if isinstance(value, str) and _CHANNEL_USERNAME.match(value):
            return value
        raise ValueError("must be a numeric chat id or a channel's @username")


def telegram_payload(notice: Notice, settings: TelegramSettings) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "chat_id": settings.chat_id,
        "text": message(notice, HTML),
        "parse_mode": "HTML",
        "link_preview_options": {"is_disabled": True},
    }
    if settings.message_thread_id is not None:
        payload["message_thread_id"] = settings.message_thread_id
    return payload


class TelegramChannel(JsonPostChannel[TelegramSettings]):
    kind = "telegram"
    settings_model = TelegramSettings

    def endpoint(self) -> str:
        base = self.settings.api_base_url.rstrip("/")
        return f"{base}/bot{self.settings.bot_token}/sendMessage"

    def payload(self, notice: Notice) -> dict[str, Any]:
        return telegram_payload(notice, self.settings)
