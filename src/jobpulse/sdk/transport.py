"""The one place that sends task events: a bounded queue drained by a background thread.

The job's thread only appends to a deque (drop-oldest when full, counted). A daemon thread
posts batches to `POST /api/v1/events` every `flush_interval` seconds or every `batch_size`
events, retries with exponential backoff and full jitter, and spools batches to disk while
the server is unreachable; spooled batches are replayed, oldest first, once it answers again.
Delivery is at-least-once; the server is idempotent per (job_id, type, attempt).

Fork safety: a child process gets a fresh, empty queue, no inherited lock, and starts its own
sender thread on its first event. A child that is about to `os._exit` (an RQ work horse) calls
`spool_pending()`, and the parent's sender replays the batch.
"""

from __future__ import annotations

import atexit
import logging
import os
import random
import tempfile
import threading
import time
import weakref
from collections import deque
from datetime import UTC, datetime
from typing import Any

import httpcore  # noqa: F401
import httpx

from jobpulse.sdk.spool import Spool, SpooledBatch

log = logging.getLogger("jobpulse.sdk")
# httpcore above: httpx imports it when its first client is built, which would be in the
# sender thread, racing the job's own imports; on CPython 3.11 such a race has failed with
# "SystemError: AST constructor recursion depth mismatch" (seen in a Celery fork worker).

EVENTS_PATH = "/api/v1/events"
_RETRYABLE_STATUS = {408, 425, 429, 500, 502, 503, 504}
_live_transports: weakref.WeakSet[Transport] = weakref.WeakSet()


def default_spool_dir() -> str:
    return os.environ.get("JOBPULSE_SPOOL_DIR") or os.path.join(
        tempfile.gettempdir(), f"jobpulse-spool-{os.getuid()}"
    )


class Transport:
    def __init__(
        self,
        url: str,
        api_key: str | None,
        *,
        max_queue: int = 10_000,
        batch_size: int = 500,
        flush_interval: float = 1.0,
        retries: int = 3,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        timeout: float = 5.0,
        spool_dir: str | os.PathLike[str] | None = None,
        spool_max_bytes: int = 50_000_000,
        shutdown_timeout: float = 2.0,
        http: httpx.Client | None = None,
    ) -> None:
        self.url = url.rstrip("/") + EVENTS_PATH
        self.headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.max_queue = max_queue
        self.batch_size = batch_size
        self.flush_interval = flush_interval
        self.retries = retries
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.timeout = timeout
        self.shutdown_timeout = shutdown_timeout
        self.spool = Spool(spool_dir or default_spool_dir(), spool_max_bytes)
        self._shared_http = http
        self.sent_events = 0
        self.rejected_events = 0
        self._reset_process_state()
        _live_transports.add(self)

    # -- the job's side: never blocks beyond an append, never raises --------------------

    def put(self, event: dict[str, Any]) -> None:
        """Queue one event. When the queue is full the oldest event is dropped and counted."""
        queue = self._queue
        if len(queue) >= self.max_queue:
            self.dropped_events += 1
        queue.append(event)
        if self.spool_only:
            return
        if self._thread is None:
            self._start()
        elif len(queue) >= self.batch_size:
            self._wakeup.set()

    @property
    def queued(self) -> int:
        return len(self._queue)

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every event queued so far was sent or spooled; False on timeout."""
        if self._stopping:  # closed: no sender any more, keep what is left on disk
            self.spool_pending()
            return True
        if self._thread is None:
            self._start()
        target = self._enqueued_marker()
        done = threading.Event()
        with self._waiters_lock:
            self._flush_waiters.append((target, done))
        self._wakeup.set()
        return done.wait(self.shutdown_timeout if timeout is None else timeout)

    def spool_pending(self) -> None:
        """Write queued events to the disk spool without touching the network."""
        try:
            batch = self._drain(len(self._queue))
            if batch:
                self.spool.write([_wire(event) for event in batch])
        except Exception:
            log.exception("jobpulse: could not spool pending events")

    def close(self, timeout: float | None = None) -> None:
        """Send what is queued (bounded by `timeout`), then stop the sender thread."""
        thread = self._thread
        self._stopping = True
        self._wakeup.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join(self.shutdown_timeout if timeout is None else timeout)
        if self._queue:
            self.spool_pending()

    # -- the sender thread --------------------------------------------------------------

    def start(self) -> None:
        """Start the sender thread now (it also starts on the first event)."""
        if self._thread is None:
            self._start()

    def _reset_process_state(self) -> None:
        # A process about to leave with os._exit (an RQ work horse) sets this: its events
        # then only go to the disk spool, by `spool_pending()`, never through a thread that
        # the exit could cut off mid-request.
        self.spool_only = False
        self._pid = os.getpid()
        self._queue: deque[dict[str, Any]] = deque(maxlen=self.max_queue)
        self._wakeup = threading.Event()
        self._start_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._down_until = 0.0
        self._failures = 0
        self._taken = 0
        self._flush_waiters: list[tuple[int, threading.Event]] = []
        self._waiters_lock = threading.Lock()
        self.dropped_events = 0

    def _start(self) -> None:
        with self._start_lock:
            if self._thread is not None or self._stopping:
                return
            thread = threading.Thread(target=self._run, name="jobpulse-transport", daemon=True)
            thread.start()
            self._thread = thread

    def _enqueued_marker(self) -> int:
        return self._taken + len(self._queue)

    def _run(self) -> None:
        http = self._shared_http
        try:
            while True:
                self._wakeup.wait(self.flush_interval)
                self._wakeup.clear()
                stopping = self._stopping
                try:
                    # Built here, where a failure is retried next cycle: a sender thread
                    # that died on it would leave the process silently unmonitored.
                    http = http or httpx.Client(timeout=self.timeout)
                    self._cycle(http, stopping)
                except Exception:  # e.g. a full disk under the spool: keep the sender alive
                    log.exception("jobpulse: sending events failed (some may be lost)")
                if stopping:
                    return
        except Exception:
            log.exception("jobpulse: transport thread failed")
        finally:
            self._release_flush_waiters(force=True)
            if self._shared_http is None and http is not None:
                http.close()

    def _cycle(self, http: httpx.Client, stopping: bool) -> None:
        while True:
            batch = self._drain(self.batch_size)
            if not batch:
                break
            self._send_or_spool(http, [_wire(event) for event in batch], stopping)
        self._release_flush_waiters()
        if not stopping:
            self._replay_spool(http)

    def _drain(self, limit: int) -> list[dict[str, Any]]:
        batch: list[dict[str, Any]] = []
        queue = self._queue
        while queue and len(batch) < limit:
            try:
                batch.append(queue.popleft())
            except IndexError:
                break
        self._taken += len(batch)
        return batch

    def _send_or_spool(
        self, http: httpx.Client, events: list[dict[str, Any]], stopping: bool
    ) -> None:
        if self._server_down() or self.spool.pending():
            self.spool.write(events)
            return
        attempts = 1 if stopping else self.retries + 1
        for attempt in range(attempts):
            outcome = self._post(http, events)
            if outcome == "invalid" and len(events) > 1:
                self._send_halves(http, events, stopping)
                return
            if outcome != "retry":
                self._mark_up()
                return
            if attempt + 1 < attempts and self._sleep(self._backoff(attempt)):
                break
        self._mark_down()
        self.spool.write(events)

    def _send_halves(
        self, http: httpx.Client, events: list[dict[str, Any]], stopping: bool
    ) -> None:
        """An invalid batch: send each half on its own, so one bad event loses only itself."""
        self.rejected_events -= len(events)
        middle = len(events) // 2
        self._send_or_spool(http, events[:middle], stopping)
        self._send_or_spool(http, events[middle:], stopping)

    def _replay_spool(self, http: httpx.Client) -> None:
        if self._server_down():
            return
        for path in self.spool.pending():
            if self._stopping:
                return
            batch = self.spool.claim(path)
            if batch is None:
                continue
            if not self._replay_one(http, batch):
                return

    def _replay_one(self, http: httpx.Client, batch: SpooledBatch) -> bool:
        if self._post(http, batch.events) == "retry":
            self.spool.release(batch)
            self._mark_down()
            return False
        self.spool.done(batch)
        self._mark_up()
        return True

    def _post(self, http: httpx.Client, events: list[dict[str, Any]]) -> str:
        """ "sent"; "retry" (unreachable, 5xx, 429); "invalid" (422); "rejected" (other 4xx)."""
        try:
            response = http.post(self.url, json=events, headers=self.headers)
        except httpx.HTTPError as exc:
            log.debug("jobpulse: sending %d events failed: %s", len(events), exc)
            return "retry"
        if response.is_success:
            self.sent_events += len(events)
            return "sent"
        if response.status_code in _RETRYABLE_STATUS:
            return "retry"
        self.rejected_events += len(events)
        log.warning(
            "jobpulse: server rejected %d events (%d): %s",
            len(events),
            response.status_code,
            response.text[:500],
        )
        return "invalid" if response.status_code == 422 else "rejected"

    def _server_down(self) -> bool:
        return time.monotonic() < self._down_until

    def _mark_down(self) -> None:
        self._down_until = time.monotonic() + self._backoff(self._failures)
        self._failures += 1

    def _mark_up(self) -> None:
        self._failures = 0
        self._down_until = 0.0

    def _backoff(self, failures: int) -> float:
        ceiling = min(self.backoff_max, self.backoff_base * (2 ** min(failures, 30)))
        return random.uniform(ceiling / 2, ceiling)

    def _sleep(self, seconds: float) -> bool:
        """Sleep unless asked to stop; True if stopping."""
        deadline = time.monotonic() + seconds
        while not self._stopping:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            time.sleep(min(left, 0.05))
        return True

    def _release_flush_waiters(self, force: bool = False) -> None:
        with self._waiters_lock:
            waiting = []
            for target, done in self._flush_waiters:
                if force or self._taken >= target:
                    done.set()
                else:
                    waiting.append((target, done))
            self._flush_waiters = waiting

    def _after_fork_in_child(self) -> None:
        self._shared_http = None
        self._reset_process_state()


def _wire(event: dict[str, Any]) -> dict[str, Any]:
    """The event as sent: timestamps captured as epoch floats become ISO 8601 strings."""
    wired = dict(event)
    for field in ("ts", "eta", "expires"):
        value = wired.get(field)
        if isinstance(value, float | int) and not isinstance(value, bool):
            wired[field] = datetime.fromtimestamp(value, UTC).isoformat()
    return wired


def _close_all_at_exit() -> None:
    for transport in list(_live_transports):
        try:
            if transport._pid == os.getpid():
                transport.close()
        except Exception:
            log.exception("jobpulse: flush at exit failed")


def _reset_all_in_child() -> None:
    for transport in list(_live_transports):
        transport._after_fork_in_child()


atexit.register(_close_all_at_exit)
os.register_at_fork(after_in_child=_reset_all_in_child)
