"""`Client`: where the SDK's settings live, and the two ways it talks to the server.

Pings (scheduled jobs, `monitor()`) are sent at once with short timeouts and bounded retries.
Task events (`record()`) go through the background `Transport`.
"""

from __future__ import annotations

import logging
import os
import re
import time
import traceback
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol

import httpx

from jobpulse.sdk.safety import guarded
from jobpulse.sdk.transport import Transport

if TYPE_CHECKING:
    from jobpulse.sdk.monitor import Monitor

log = logging.getLogger("jobpulse.sdk")

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
EVENT_TYPES = frozenset(
    {"enqueued", "deferred", "started", "succeeded", "failed", "retried", "expired", "canceled"}
)
MAX_TRACEBACK = 10_000
HEARTBEATS_PATH = "/api/v1/workers/heartbeat"
DEFAULT_QUEUE = "default"  # the server requires a queue name; libraries without one use this


class Integration(Protocol):
    """One library's hooks; `setup(client)` installs them (idempotent)."""

    def setup(self, client: Client) -> None: ...


class Client:
    def __init__(
        self,
        url: str | None = None,
        api_key: str | None = None,
        *,
        ping_key: str | None = None,
        integrations: Iterable[Integration] = (),
        ping_timeout: float = 3.0,
        ping_retries: int = 2,
        **transport_options: Any,
    ) -> None:
        """Settings default to JOBPULSE_URL, JOBPULSE_API_KEY and JOBPULSE_PING_KEY.

        Without a URL the client is disabled: it records and pings nothing.
        """
        self.url = (url or os.environ.get("JOBPULSE_URL") or "").rstrip("/")
        self.api_key = api_key or os.environ.get("JOBPULSE_API_KEY") or None
        self.ping_key = ping_key or os.environ.get("JOBPULSE_PING_KEY") or None
        self.ping_timeout = ping_timeout
        self.ping_retries = ping_retries
        self.enabled = bool(self.url)
        self.heartbeat_sink: Callable[[dict[str, Any]], None] | None = None
        self._heartbeat_endpoint_missing = False
        if not self.enabled:
            log.warning("jobpulse: no server URL (JOBPULSE_URL); the SDK is disabled")
        self.transport = Transport(self.url or "http://invalid", self.api_key, **transport_options)
        for integration in integrations:
            integration.setup(self)

    # -- task events ---------------------------------------------------------------------

    def record(
        self, type: str, job_id: str, task_name: str, queue: str | None = None, **fields: Any
    ) -> None:
        """Queue one task event (see DESIGN.md for the fields). Never raises, never blocks."""
        if not self.enabled:
            return
        try:
            event = {
                "type": type,
                "job_id": job_id,
                "task_name": task_name,
                "queue": queue or DEFAULT_QUEUE,
                "ts": fields.pop("ts", None) or time.time(),
            }
            for key, value in fields.items():
                if value is not None:
                    event[key] = value
            self.transport.put(event)
        except Exception:
            log.exception("jobpulse: could not record an event (ignored)")

    def flush(self, timeout: float | None = None) -> bool:
        return bool(guarded(self.transport.flush)(timeout))

    def close(self, timeout: float | None = None) -> None:
        guarded(self.transport.close)(timeout)

    def send_heartbeat(self, payload: dict[str, Any]) -> None:
        """Report a worker alive: to `heartbeat_sink` if set, else to the workers endpoint."""
        if self.heartbeat_sink is not None:
            self.heartbeat_sink(payload)
            return
        if not self.enabled or self._heartbeat_endpoint_missing:
            return
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        try:
            response = httpx.post(
                f"{self.url}{HEARTBEATS_PATH}",
                json=[payload],
                headers=headers,
                timeout=self.ping_timeout,
            )
        except httpx.HTTPError as exc:
            log.debug("jobpulse: heartbeat not sent: %s", exc)
            return
        if response.status_code in (404, 405):
            self._heartbeat_endpoint_missing = True
            log.info("jobpulse: the server has no %s; heartbeats are off", HEARTBEATS_PATH)

    # -- pings ---------------------------------------------------------------------------

    def monitor(self, check: str, *, create: bool = False) -> Monitor:
        """A decorator and (async) context manager that pings start, then success or fail."""
        from jobpulse.sdk.monitor import Monitor

        return Monitor(self, check, create=create)

    def ping_url(self, check: str, action: str | None = None) -> str | None:
        """The ping URL for a check uuid or a slug (the slug needs the project's ping key)."""
        if _UUID.match(check):
            base = f"{self.url}/ping/{check}"
        elif self.ping_key:
            base = f"{self.url}/ping/{self.ping_key}/{check}"
        else:
            return None
        return f"{base}/{action}" if action else base

    def ping(
        self,
        check: str,
        action: str | None = None,
        *,
        rid: str | None = None,
        body: str | None = None,
        create: bool = False,
    ) -> bool:
        """Send one ping; True if the server answered 2xx. Never raises."""
        if not self.enabled:
            return False
        url = self.ping_url(check, action)
        if url is None:
            log.warning("jobpulse: %r is not a uuid and no ping key is set; not pinged", check)
            return False
        params = {
            key: value
            for key, value in (("rid", rid), ("create", "1" if create else None))
            if value
        }
        for attempt in range(self.ping_retries + 1):
            try:
                response = httpx.post(
                    url, params=params, content=(body or "").encode(), timeout=self.ping_timeout
                )
            except httpx.HTTPError as exc:
                log.warning("jobpulse: ping %s failed: %s", _redacted(url), exc)
            except Exception:
                log.exception("jobpulse: ping failed (ignored)")
                return False
            else:
                if response.is_success:
                    return True
                log.warning("jobpulse: ping %s answered %d", _redacted(url), response.status_code)
                if response.status_code < 500:
                    return False
            if attempt < self.ping_retries:
                time.sleep(0.2 * 2**attempt)
        return False


def failure_body(
    error_type: type[BaseException] | None,
    error: BaseException | None,
    tb: TracebackType | None,
) -> str:
    """`Type: message` then the traceback's tail: what a failed run's ping carries."""
    if error_type is None:
        return ""
    head = f"{error_type.__name__}: {error}"
    trace = "".join(traceback.format_exception(error_type, error, tb))
    return head + "\n\n" + trace[-MAX_TRACEBACK:]


def _redacted(url: str) -> str:
    return url.split("/ping/")[0] + "/ping/…"
