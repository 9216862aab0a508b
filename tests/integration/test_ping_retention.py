"""Each check keeps its newest pings only; the pruning goes in bounded steps."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from jobpulse.runtime import Runtime
from jobpulse.store import ping_retention
from jobpulse.store.ping_retention import ping_pruner, prune_pings
from jobpulse.store.tables import pings


def _ping(client: TestClient, uuid: str, times: int) -> None:
    for i in range(times):
        assert client.post(f"/ping/{uuid}", content=f"ping {i}").status_code == 200


def _bodies(client: TestClient, uuid: str) -> list[str]:
    found = client.get(f"/api/v1/checks/{uuid}/pings", params={"limit": 1000}).json()["pings"]
    return [p["body"] for p in found]


def test_only_the_newest_pings_of_each_check_stay(
    runtime: Runtime, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ping_retention, "CHECKS_PER_STEP", 2)  # several steps
    monkeypatch.setattr(ping_retention, "DELETES_PER_STEP", 7)  # and a check over two steps
    busy, quiet, other = (
        client.post("/api/v1/checks", json={"name": name}).json()["uuid"]
        for name in ("busy", "quiet", "other")
    )
    _ping(client, busy, 25)
    _ping(client, quiet, 3)
    _ping(client, other, 12)

    assert prune_pings(runtime.writer, kept=10) == 15 + 2

    assert _bodies(client, busy) == [f"ping {i}" for i in range(24, 14, -1)]
    assert _bodies(client, quiet) == ["ping 2", "ping 1", "ping 0"]
    assert len(_bodies(client, other)) == 10
    assert client.get(f"/api/v1/checks/{busy}").json()["n_pings"] == 25  # every ping counted
    assert prune_pings(runtime.writer, kept=10) == 0


def test_the_pruner_runs_at_start(runtime: Runtime, client: TestClient) -> None:
    uuid = client.post("/api/v1/checks", json={"name": "c"}).json()["uuid"]
    _ping(client, uuid, 15)
    pruner = ping_pruner(runtime.writer, kept=10, interval_seconds=3600)
    pruner.start()
    deadline = datetime.now(UTC) + timedelta(seconds=10)
    while pruner.last_result is None and datetime.now(UTC) < deadline:
        time.sleep(0.02)
    pruner.stop()
    assert pruner.last_result == 5
    with runtime.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(pings)).scalar_one() == 10
