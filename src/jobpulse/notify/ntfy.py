"""ntfy: publish a JSON message to a topic, priority by severity, optional access token."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, Field

from jobpulse.notify.base import Notice, NoticeKind
from jobpulse.notify.http import JsonPostChannel
from jobpulse.notify.render import MARKDOWN, headline, message
from jobpulse.notify.settings import SECRET, ChannelSettings, HttpUrl, OneLine

DEFAULT_SERVER_URL = "https://ntfy.sh"
# ntfy priorities: 1 min, 2 low, 3 default, 4 high, 5 max (urgent).
DEFAULT_PRIORITIES = {"critical": 5, "warning": 4, "info": 3}
RESOLVED_PRIORITY = 3
_TAGS = {"critical": "rotating_light", "warning": "warning", "info": "information_source"}

Priority = Annotated[int, Field(ge=1, le=5)]


def _severity(value: str) -> str:
    if value not in DEFAULT_PRIORITIES:
        raise ValueError(f"must be one of {', '.join(DEFAULT_PRIORITIES)}")
    return value


Severity = Annotated[str, AfterValidator(_severity)]


class NtfySettings(ChannelSettings):
    server_url: HttpUrl = DEFAULT_SERVER_URL
    topic: Annotated[str, Field(pattern=r"^[-_A-Za-z0-9]{1,64}$")]
    token: Annotated[OneLine | None, SECRET] = None
    priorities: dict[Severity, Priority] = Field(default_factory=dict)


def ntfy_payload(notice: Notice, settings: NtfySettings) -> dict[str, Any]:
    if notice.kind is NoticeKind.RESOLVED:
        priority, tag = RESOLVED_PRIORITY, "white_check_mark"
    else:
        priorities: dict[str, int] = {**DEFAULT_PRIORITIES, **settings.priorities}
        priority = priorities.get(notice.severity, DEFAULT_PRIORITIES["info"])
        tag = _TAGS.get(notice.severity, _TAGS["info"])
    payload: dict[str, Any] = {
        "topic": settings.topic,
        "title": headline(notice),
        "message": message(notice, MARKDOWN, with_headline=False),
        "markdown": True,
        "priority": priority,
        "tags": [tag],
    }
    if notice.url:
        payload["click"] = notice.url
    return payload


class NtfyChannel(JsonPostChannel[NtfySettings]):
    kind = "ntfy"
    settings_model = NtfySettings

    def endpoint(self) -> str:
        # JSON publishing goes to the server root; the topic is in the body.
        return self.settings.server_url.rstrip("/") + "/"

    def payload(self, notice: Notice) -> dict[str, Any]:
        return ntfy_payload(notice, self.settings)

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.settings.token}"} if self.settings.token else {}
