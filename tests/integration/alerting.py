"""Helpers for the alerting tests: drive the alert loop and notifier with an injected clock,
and point a webhook channel at a loopback receiver."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient

from jobpulse.runtime import Runtime
from jobpulse.store.alert_tick import TickResult
from jobpulse.store.pings import evaluate_handler
from tests.integration.notify_receivers import HttpReceiver


def now() -> datetime:
    return datetime.now(UTC)


def alert_tick(runtime: Runtime, at: datetime | None = None) -> TickResult:
    """One pass of the alert loop as the node runs it, at `at` (default now)."""
    loop = runtime.alerting.loop
    loop.clock = lambda: at or now()
    return loop.tick()


def evaluate(runtime: Runtime, at: datetime) -> None:
    runtime.writer.run_sync(evaluate_handler, at)


def deliver(runtime: Runtime, at: datetime | None = None) -> list[str]:
    """One notifier pass at `at` (default now); the new status of each claimed row."""
    notifier = runtime.alerting.notifier
    notifier.clock = lambda: at or now()
    return notifier.tick()


def webhook_channel(client: TestClient, receiver: HttpReceiver, name: str = "hook") -> int:
    response = client.post(
        "/api/v1/channels",
        json={"name": name, "kind": "webhook", "config": {"url": f"{receiver.url}/{name}"}},
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def create_check(client: TestClient, **fields: Any) -> str:
    response = client.post("/api/v1/checks", json={"name": "backup", **fields})
    assert response.status_code == 201, response.text
    return str(response.json()["uuid"])


def notices(receiver: HttpReceiver, path: str | None = None) -> list[dict[str, Any]]:
    return [r.json() for r in receiver.requests if path is None or r.path == path]


def kinds(receiver: HttpReceiver) -> list[str]:
    return [notice["kind"] for notice in notices(receiver)]


def incidents(client: TestClient, **params: Any) -> list[dict[str, Any]]:
    response = client.get("/api/v1/incidents", params=params)
    assert response.status_code == 200, response.text
    return list(response.json()["incidents"])


def deliver_all(runtime: Runtime, at: datetime | None = None) -> list[str]:
    """Notifier passes until one claims nothing (later notices of an incident wait for the
    earlier ones, so firing and resolved take two passes)."""
    statuses: list[str] = []
    while found := deliver(runtime, at):
        statuses += found
    return statuses
