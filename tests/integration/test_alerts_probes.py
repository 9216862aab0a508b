"""HTTP probes end to end: a real loopback service polled, down and back, never ready."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient

from jobpulse.runtime import Runtime
from tests.integration.alerting import (
    alert_tick,
    deliver_all,
    incidents,
    kinds,
    now,
    webhook_channel,
)
from tests.integration.notify_receivers import HttpReceiver


class Service:
    """A loopback service whose /health answers `status`."""

    def __init__(self) -> None:
        self.status = 200
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(service.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/health"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def service() -> Iterator[Service]:
    running = Service()
    yield running
    running.close()


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    with HttpReceiver() as server:
        yield server


def _poll(runtime: Runtime, at: Any) -> int:
    poller = runtime.alerting.probes
    poller.clock = lambda: at
    return poller.tick()


def test_a_probe_that_fails_three_polls_opens_an_incident_and_recovers(
    client: TestClient, runtime: Runtime, service: Service, receiver: HttpReceiver
) -> None:
    webhook_channel(client, receiver)
    probe = client.post("/api/v1/probes", json={"name": "api", "url": service.url, "interval": 10})
    assert probe.status_code == 201, probe.text
    rule = client.post(
        "/api/v1/rules",
        json={"name": "api down", "kind": "probe_down", "scope": {"kind": "probe", "value": "api"}},
    )
    assert rule.status_code == 201, rule.text
    service.status = 503
    at = now()
    for poll in range(3):
        assert _poll(runtime, at + timedelta(seconds=10 * poll)) == 1
        assert _poll(runtime, at + timedelta(seconds=10 * poll + 1)) == 0  # not due yet
        alert_tick(runtime, at + timedelta(seconds=10 * poll + 2))
    (incident,) = incidents(client)
    assert incident["subject"] == "api" and "HTTP 503" in incident["summary"]

    service.status = 200
    _poll(runtime, at + timedelta(seconds=40))
    alert_tick(runtime, at + timedelta(seconds=41))
    deliver_all(runtime, at + timedelta(seconds=41))
    assert kinds(receiver) == ["firing", "resolved"]


def test_a_probe_never_ready_after_a_deploy_fires(
    client: TestClient, runtime: Runtime, service: Service
) -> None:
    service.status = 502
    probe = client.post("/api/v1/probes", json={"name": "web", "url": service.url}).json()
    client.post(
        "/api/v1/rules",
        json={"name": "deploy", "kind": "probe_never_ready", "params": {"ready_within": 60}},
    )
    deployed = client.post(f"/api/v1/probes/{probe['id']}/deployed")
    assert deployed.status_code == 200 and deployed.json()["deployed_at"]
    at = now()
    _poll(runtime, at)
    assert alert_tick(runtime, at + timedelta(seconds=30)).opened == []
    _poll(runtime, at + timedelta(seconds=31))
    assert len(alert_tick(runtime, at + timedelta(seconds=90)).opened) == 1


def test_a_bad_probe_is_a_422_naming_the_field(client: TestClient) -> None:
    response = client.post("/api/v1/probes", json={"name": "x", "url": "ftp://host/"})
    assert response.status_code == 422 and response.json()["detail"][0]["field"] == "url"


def test_probe_samples_past_their_retention_are_pruned(
    client: TestClient, runtime: Runtime, service: Service
) -> None:
    client.post("/api/v1/probes", json={"name": "api", "url": service.url, "interval": 60})
    at = now()
    for day in range(3):
        _poll(runtime, at + timedelta(days=7 * day))
    poller = runtime.alerting.probes
    poller.clock = lambda: at + timedelta(days=15)
    assert poller.prune() == 1
    assert poller.prune() == 0
