"""The one interface every notification channel implements."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol


class NoticeKind(StrEnum):
    FIRING = "firing"
    REPEAT = "repeat"
    RESOLVED = "resolved"
    TEST = "test"


@dataclass(frozen=True)
class Notice:
    """One message about one incident: what, where, since when, why, and a link."""

    id: str  # unique per notice; receivers may dedupe on it
    kind: NoticeKind
    severity: str  # critical | warning | info
    title: str  # what happened, one line
    subject: str  # where: the check, task, queue or worker concerned
    since: datetime  # when the problem started (aware UTC)
    summary: str  # why: the rule's explanation, a few lines
    url: str  # link to the incident in the dashboard
    dedup_key: str  # stable per (rule, subject): PagerDuty's dedup_key, etc.
    labels: dict[str, str] = field(default_factory=dict)


class ChannelConfigError(ValueError):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class DeliveryError(Exception):
    """Sending failed; `retryable` says whether trying again later may help."""

    def __init__(
        self, message: str, *, retryable: bool = True, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        # Seconds the receiver asked us to wait (HTTP Retry-After), when it said so.
        self.retry_after = retry_after


class Channel(Protocol):
    kind: str

    def send(self, notice: Notice) -> None:
        """Deliver or raise DeliveryError. Must time out (never hang)."""


class ChannelFactory(Protocol):
    def __call__(self, config: dict[str, Any]) -> Channel: ...
