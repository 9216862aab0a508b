"""Discord webhook: one embed (title, description, colour, fields), mentions disabled."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from jobpulse.notify.base import Notice
from jobpulse.notify.http import JsonPostChannel
from jobpulse.notify.render import MARKDOWN, color, facts, headline, summary, truncate
from jobpulse.notify.settings import SECRET, ChannelSettings, HttpUrl, OneLine

EMBED_TITLE_LIMIT = 256
FIELD_VALUE_LIMIT = 1024


class DiscordSettings(ChannelSettings):
    webhook_url: Annotated[HttpUrl, SECRET]
    username: Annotated[OneLine, Field(max_length=80)] | None = None


def discord_payload(notice: Notice, username: str | None = None) -> dict[str, Any]:
    embed: dict[str, Any] = {
        "title": truncate(headline(notice), EMBED_TITLE_LIMIT),
        "description": MARKDOWN.escape(summary(notice)),
        "color": color(notice),
        "timestamp": notice.since.isoformat(),
        "fields": [
            {"name": label, "value": truncate(value, FIELD_VALUE_LIMIT), "inline": True}
            for label, value in facts(notice)
        ],
        "footer": {"text": f"jobpulse notice {notice.id}"},
    }
    if notice.url:
        embed["url"] = notice.url
    payload: dict[str, Any] = {"embeds": [embed], "allowed_mentions": {"parse": []}}
    if username:
        payload["username"] = username
    return payload


class DiscordChannel(JsonPostChannel[DiscordSettings]):
    kind = "discord"
    settings_model = DiscordSettings

    def endpoint(self) -> str:
        return self.settings.webhook_url

    def payload(self, notice: Notice) -> dict[str, Any]:
        return discord_payload(notice, self.settings.username)
