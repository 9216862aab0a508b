"""Celery on RabbitMQ read through the management plugin's HTTP API. The plugin is not enabled
on the test machine, so a loopback HTTP server answers in its documented shape
(`GET /api/queues/VHOST?page=&page_size=&columns=` → `{items, page, page_count}`)."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from jobpulse.collectors import SourceConfig, make_collector

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
PAGES = [
    [
        {
            "name": "celery",
            "messages_ready": 12,
            "messages_unacknowledged": 2,
            "consumers": 1,
            "head_message_timestamp": NOW.timestamp() - 90,
        },
        {"name": "celery@w1.celery.pidbox", "messages_ready": 0, "consumers": 1},
    ],
    [
        {"name": "emails", "messages_ready": 3, "messages_unacknowledged": 0, "consumers": 0},
        {"name": "celeryev.1234", "messages_ready": 5, "consumers": 1},
    ],
]


@pytest.fixture
def management() -> Iterator[tuple[str, list[str]]]:
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urlsplit(self.path)
            expected = "Basic " + base64.b64encode(b"jobs:s3cret").decode()
            if self.headers.get("Authorization") != expected:
                self.send_response(401)
                self.end_headers()
                return
            seen.append(url.path)
            page = int(parse_qs(url.query)["page"][0])
            body = json.dumps({"items": PAGES[page - 1], "page": page, "page_count": 2})
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()
    server.server_close()


def test_the_management_api_gives_discovery_unacked_counts_and_ages(
    management: tuple[str, list[str]],
) -> None:
    url, seen = management
    config = SourceConfig(
        name="r",
        library="celery",
        url="amqp://jobs:s3cret@127.0.0.1:5672/prod",
        options={"management_url": url},
    )
    result = make_collector(config).sample(NOW)

    assert result.error is None
    by_name = {q.queue: q for q in result.queues}
    assert set(by_name) == {"celery", "emails"}  # Celery's control/event queues left out
    celery = by_name["celery"]
    assert (celery.depth, celery.in_progress, celery.consumers) == (12, 2, 1)
    assert celery.oldest_age_seconds == 90
    emails = by_name["emails"]
    assert emails.oldest_age_seconds is None and emails.oldest_age_reason
    assert seen == ["/api/queues/prod", "/api/queues/prod"]


def test_wrong_management_credentials_give_a_failed_sample(
    management: tuple[str, list[str]],
) -> None:
    url, _ = management
    config = SourceConfig(
        name="r", library="celery", url="amqp://jobs:wrong@h//", options={"management_url": url}
    )
    result = make_collector(config).sample(NOW)
    assert not result.ok and "401" in (result.error or "")
