"""django-health-check (4.x): a check that asks jobpulse whether the task pipeline is healthy.

    path("ht/", HealthCheckView.as_view(checks=[
        "jobpulse.sdk.integrations.django_health.JobpulseTasks", ...]))

It reads `GET /api/v1/tasks/health` with the project's API key: healthy passes; unhealthy
(503, with the problems: stuck tasks, failure rate, backlog) or an unreachable server makes
the check unavailable.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import httpx
from health_check.base import HealthCheck
from health_check.exceptions import ServiceUnavailable, ServiceWarning

from jobpulse.sdk.integrations.django import client_from_settings

HEALTH_PATH = "/api/v1/tasks/health"
_HEALTHY = {"ok", "healthy", "up", "pass"}
_WARNING = {"warning", "warn", "degraded"}


def verdict(status_code: int, body: Any) -> tuple[str, str]:
    """("ok" | "warning" | "unavailable", reason) for the server's answer.

    jobpulse answers `{"healthy": bool, "problems": [...]}` (503 when unhealthy); a `status`
    field ("ok", "degraded", ...) is understood too.
    """
    fields = body if isinstance(body, dict) else {}
    problems = "; ".join(str(p) for p in fields.get("problems") or [])
    status = str(fields.get("status", "")).lower()
    reason = problems or str(fields.get("reason") or fields.get("detail") or status)
    if status_code >= 400 or fields.get("healthy") is False:
        return "unavailable", f"jobpulse answered {status_code}: {reason}"[:300]
    if status in _WARNING:
        return "warning", reason
    if fields.get("healthy") is True or not status or status in _HEALTHY:
        return "ok", reason
    return "unavailable", reason


@dataclasses.dataclass
class JobpulseTasks(HealthCheck):  # type: ignore[misc]
    url: str | None = None
    api_key: str | None = dataclasses.field(default=None, repr=False)

    def run(self) -> None:
        client = client_from_settings()
        url = (self.url or client.url).rstrip("/")
        key = self.api_key or client.api_key
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        try:
            response = httpx.get(
                f"{url}{HEALTH_PATH}", headers=headers, timeout=self.timeout.total_seconds()
            )
            body = response.json() if response.content else {}
        except (httpx.HTTPError, ValueError) as exc:
            raise ServiceUnavailable(f"jobpulse unreachable: {type(exc).__name__}") from None
        outcome, reason = verdict(response.status_code, body)
        if outcome == "warning":
            raise ServiceWarning(reason)
        if outcome == "unavailable":
            raise ServiceUnavailable(reason)
