"""Microsoft Teams webhook: an Adaptive Card (Workflows) or a legacy MessageCard."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from jobpulse.notify.base import Notice
from jobpulse.notify.http import JsonPostChannel
from jobpulse.notify.render import LINK_TEXT, color, facts, headline, summary
from jobpulse.notify.settings import SECRET, ChannelSettings, HttpUrl

ADAPTIVE_CARD_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"


class TeamsSettings(ChannelSettings):
    webhook_url: Annotated[HttpUrl, SECRET]
    card: Literal["adaptive", "messagecard"] = "adaptive"


def adaptive_card_payload(notice: Notice) -> dict[str, Any]:
    """The Workflows ("Post to a channel when a webhook request is received") shape."""
    body: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "text": headline(notice),
            "weight": "bolder",
            "size": "medium",
            "wrap": True,
            "style": "heading",
        },
        {
            "type": "FactSet",
            "facts": [{"title": label, "value": value} for label, value in facts(notice)],
        },
        {"type": "TextBlock", "text": summary(notice), "wrap": True},
    ]
    card: dict[str, Any] = {
        "$schema": ADAPTIVE_CARD_SCHEMA,
        "type": "AdaptiveCard",
        "version": "1.4",
        "fallbackText": headline(notice),
        "body": body,
    }
    if notice.url:
        card["actions"] = [{"type": "Action.OpenUrl", "title": LINK_TEXT, "url": notice.url}]
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": card,
            }
        ],
    }


def message_card_payload(notice: Notice) -> dict[str, Any]:
    """The legacy Office 365 connector shape."""
    payload: dict[str, Any] = {
        "@type": "MessageCard",
        "@context": "https://schema.org/extensions",
        "summary": headline(notice),
        "themeColor": f"{color(notice):06X}",
        "title": headline(notice),
        "sections": [
            {
                "facts": [{"name": label, "value": value} for label, value in facts(notice)],
                "text": summary(notice),
                "markdown": False,
            }
        ],
    }
    if notice.url:
        payload["potentialAction"] = [
            {
                "@type": "OpenUri",
                "name": LINK_TEXT,
                "targets": [{"os": "default", "uri": notice.url}],
            }
        ]
    return payload


class TeamsChannel(JsonPostChannel[TeamsSettings]):
    kind = "teams"
    settings_model = TeamsSettings

    def endpoint(self) -> str:
        return self.settings.webhook_url

    def payload(self, notice: Notice) -> dict[str, Any]:
        if self.settings.card == "adaptive":
            return adaptive_card_payload(notice)
        return message_card_payload(notice)
