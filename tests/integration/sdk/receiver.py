"""A loopback HTTP server that plays the events endpoint: it records what it accepts, and can
answer errors or go away entirely (closed port) and come back on the same port."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from jobpulse.api.events import InvalidEvents, decode_events
from tests.server import free_port


class EventReceiver:
    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.events: list[dict[str, Any]] = []
        self.requests = 0
        self.other_posts: list[tuple[str, Any]] = []
        self.get_answers: dict[str, tuple[int, Any]] = {}
        self.invalid: list[str] = []
        self.invalid_job_ids: set[str] = set()
        self.failing_status: int | None = None
        self._lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path != "/api/v1/events":
                    receiver.other_posts.append((self.path, json.loads(body or b"null")))
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                with receiver._lock:
                    receiver.requests += 1
                    status = receiver.failing_status
                    events = json.loads(body)
                    if any(e.get("job_id") in receiver.invalid_job_ids for e in events):
                        status = 422
                    if status is None:
                        receiver.check_contract(events)
                        receiver.events.extend(events)
                self.send_response(status or 202)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def do_GET(self) -> None:
                status, body = receiver.get_answers.get(self.path, (404, {"error": "not found"}))
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def check_contract(self, events: list[dict[str, Any]]) -> None:
        """Note every event the real server's schema would refuse (tests assert none)."""
        try:
            decode_events(json.dumps(events).encode())
        except InvalidEvents as exc:
            self.invalid.append(str(exc)[:2000])

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def keys(self) -> Counter[tuple[str, str]]:
        with self._lock:
            return Counter((event["job_id"], event["type"]) for event in self.events)

    def wait_for(self, condition: Callable[[EventReceiver], bool], timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if condition(self):
                    return
            time.sleep(0.05)
        raise AssertionError(f"timed out; received {len(self.events)} events")
