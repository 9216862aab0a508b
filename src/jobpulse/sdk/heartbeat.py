"""Worker heartbeats: a daemon thread that reports a worker as alive every few seconds.

The payload is `{worker_id, library, hostname, pid, queues, ts, state, interval}`, posted to
`/api/v1/workers/heartbeat` (what `GET /api/v1/workers` shows; see docs/queues.md). A
client's `heartbeat_sink` (a callable) replaces the HTTP post, e.g. in tests.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jobpulse.sdk.client import Client

log = logging.getLogger("jobpulse.sdk")

HeartbeatSink = Callable[[dict[str, Any]], None]


def heartbeat_payload(
    worker_id: str,
    library: str,
    queues: Sequence[str],
    state: str = "online",
    interval: float | None = None,
) -> dict[str, Any]:
    return {
        "interval": interval,
        "worker_id": worker_id,
        "library": library,
        "hostname": socket.gethostname(),
        "pid": os.getpid(),
        "queues": list(queues),
        "ts": time.time(),
        "state": state,
    }


class WorkerHeartbeat:
    """Calls `client.send_heartbeat(payload)` every `interval` seconds until stopped."""

    def __init__(
        self,
        client: Client,
        worker_id: str,
        library: str,
        queues: Sequence[str] = (),
        interval: float = 10.0,
    ) -> None:
        self.client = client
        self.worker_id = worker_id
        self.library = library
        self.queues = list(queues)
        self.interval = interval
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name="jobpulse-heartbeat", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        self._beat("offline")

    def _run(self) -> None:
        while not self._stopped.is_set():
            self._beat("online")
            self._stopped.wait(self.interval)

    def _beat(self, state: str) -> None:
        try:
            payload = heartbeat_payload(
                self.worker_id, self.library, self.queues, state, self.interval
            )
            self.client.send_heartbeat(payload)
        except Exception:
            log.exception("jobpulse: heartbeat failed (ignored)")
