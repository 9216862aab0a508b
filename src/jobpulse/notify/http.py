"""The one HTTP send every web channel uses: a timeout always, errors as DeliveryError.

5xx, 408, 429, timeouts and connection failures may pass if tried later (retryable);
other 4xx and redirects will not. Error messages never contain the URL, because for
Slack, Discord, Teams and Telegram the URL itself is the secret.
"""

from __future__ import annotations

from typing import Any, ClassVar, Generic, TypeVar

import httpx

from jobpulse import __version__
from jobpulse.notify.base import DeliveryError, Notice
from jobpulse.notify.settings import ChannelSettings

USER_AGENT = f"jobpulse/{__version__}"
_RETRYABLE_STATUSES = {408, 425, 429}
_BODY_EXCERPT = 300


def _seconds(value: Any) -> float | None:
    try:
        return max(0.0, float(value))
    except (TypeError, ValueError):
        return None


def retry_after_seconds(response: httpx.Response) -> float | None:
    """How long the receiver asked us to wait: the Retry-After header, else the JSON body's
    `retry_after` (Discord) or `parameters.retry_after` (Telegram)."""
    from_header = _seconds(response.headers.get("Retry-After"))
    if from_header is not None or response.status_code != 429:
        return from_header
    try:
        body = response.json()
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    parameters = body.get("parameters")
    nested = parameters.get("retry_after") if isinstance(parameters, dict) else None
    return _seconds(body.get("retry_after", nested))


def raise_for_delivery(kind: str, response: httpx.Response) -> None:
    """Raise DeliveryError unless the receiver accepted the message (2xx)."""
    status = response.status_code
    if 200 <= status < 300:
        return
    excerpt = response.text[:_BODY_EXCERPT].strip()
    reason = f"{kind}: HTTP {status}" + (f": {excerpt}" if excerpt else "")
    retryable = status >= 500 or status in _RETRYABLE_STATUSES
    raise DeliveryError(reason, retryable=retryable, retry_after=retry_after_seconds(response))


def send_request(
    kind: str,
    method: str,
    url: str,
    *,
    timeout: float,
    json: Any = None,
    content: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """Send one request and return the accepted response, or raise DeliveryError."""
    all_headers = {"User-Agent": USER_AGENT, **(headers or {})}
    try:
        response = httpx.request(
            method,
            url,
            json=json,
            content=content,
            headers=all_headers,
            timeout=timeout,
            follow_redirects=False,
        )
    except httpx.TimeoutException:
        raise DeliveryError(f"{kind}: no answer within {timeout:g} s", retryable=True) from None
    except httpx.HTTPError as exc:
        raise DeliveryError(f"{kind}: {type(exc).__name__}: {exc}", retryable=True) from None
    raise_for_delivery(kind, response)
    return response


def post_json(
    kind: str, url: str, payload: Any, *, timeout: float, headers: dict[str, str] | None = None
) -> httpx.Response:
    return send_request(kind, "POST", url, json=payload, timeout=timeout, headers=headers)


SettingsT = TypeVar("SettingsT", bound=ChannelSettings)


class JsonPostChannel(Generic[SettingsT]):
    """A channel that POSTs one JSON document per notice; subclasses say where and what."""

    kind: str
    settings_model: ClassVar[type[ChannelSettings]]

    def __init__(self, settings: SettingsT) -> None:
        self.settings = settings

    def endpoint(self) -> str:
        raise NotImplementedError

    def payload(self, notice: Notice) -> dict[str, Any]:
        raise NotImplementedError

    def headers(self) -> dict[str, str]:
        return {}

    def send(self, notice: Notice) -> None:
        post_json(
            self.kind,
            self.endpoint(),
            self.payload(notice),
            timeout=self.settings.timeout_seconds,
            headers=self.headers(),
        )
