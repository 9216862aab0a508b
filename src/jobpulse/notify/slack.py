"""Slack incoming webhook: a mrkdwn section with a plain-text fallback."""

from __future__ import annotations

from typing import Annotated, Any

from jobpulse.notify.base import Notice
from jobpulse.notify.http import JsonPostChannel
from jobpulse.notify.render import SLACK_MRKDWN, headline, message, truncate
from jobpulse.notify.settings import SECRET, ChannelSettings, HttpUrl

SECTION_TEXT_LIMIT = 3000


class SlackSettings(ChannelSettings):
    webhook_url: Annotated[HttpUrl, SECRET]


def slack_payload(notice: Notice) -> dict[str, Any]:
    return {
        "text": headline(notice),
        "blocks": [
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": truncate(message(notice, SLACK_MRKDWN), SECTION_TEXT_LIMIT),
                },
            }
        ],
    }


class SlackChannel(JsonPostChannel[SlackSettings]):
    kind = "slack"
    settings_model = SlackSettings

    def endpoint(self) -> str:
        return self.settings.webhook_url

    def payload(self, notice: Notice) -> dict[str, Any]:
        return slack_payload(notice)
