"""PagerDuty Events API v2: trigger on firing/repeat/test, resolve on resolved.

The notice's dedup_key (stable per rule and subject) ties the resolve to its trigger and
makes a repeated trigger update the same PagerDuty alert instead of opening another.
"""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

from pydantic import Field

from jobpulse.notify.base import Notice, NoticeKind
from jobpulse.notify.http import JsonPostChannel
from jobpulse.notify.render import LINK_TEXT, facts, headline, summary, truncate
from jobpulse.notify.settings import SECRET, ChannelSettings, HttpUrl, OneLine

DEFAULT_EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"
SUMMARY_LIMIT = 1024
DEDUP_KEY_LIMIT = 255
_SEVERITIES = {"critical": "critical", "warning": "warning", "info": "info"}

RoutingKey = Annotated[str, Field(pattern=r"^[A-Za-z0-9]{32}$")]


class PagerDutySettings(ChannelSettings):
    routing_key: Annotated[RoutingKey, SECRET]
    events_url: HttpUrl = DEFAULT_EVENTS_URL
    client: OneLine = "jobpulse"


def dedup_key(notice: Notice) -> str:
    if len(notice.dedup_key) <= DEDUP_KEY_LIMIT:
        return notice.dedup_key
    return "sha256:" + hashlib.sha256(notice.dedup_key.encode()).hexdigest()


def pagerduty_event(notice: Notice, settings: PagerDutySettings) -> dict[str, Any]:
    event: dict[str, Any] = {
        "routing_key": settings.routing_key,
        "dedup_key": dedup_key(notice),
    }
    if notice.kind is NoticeKind.RESOLVED:
        event["event_action"] = "resolve"
        return event
    event["event_action"] = "trigger"
    event["payload"] = {
        "summary": truncate(headline(notice), SUMMARY_LIMIT),
        "source": notice.subject,
        "severity": _SEVERITIES.get(notice.severity, "error"),
        "timestamp": notice.since.isoformat(),
        "custom_details": {
            **dict(facts(notice)),
            "Why": summary(notice),
            "Notice id": notice.id,
        },
    }
    event["client"] = settings.client
    if notice.url:
        event["client_url"] = notice.url
        event["links"] = [{"href": notice.url, "text": LINK_TEXT}]
    return event


class PagerDutyChannel(JsonPostChannel[PagerDutySettings]):
    kind = "pagerduty"
    settings_model = PagerDutySettings

    def endpoint(self) -> str:
        return self.settings.events_url

    def payload(self, notice: Notice) -> dict[str, Any]:
        return pagerduty_event(notice, self.settings)
