"""A real server process: timing of the evaluator loop and durability across kill -9."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest

from tests.server import ServerProcess, child_pids, create_key, is_running, running_server


def _wait_for_status(client: httpx.Client, uuid: str, wanted: str, limit: float) -> datetime:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        body = client.get(f"/api/v1/checks/{uuid}").json()
        if body["status"] == wanted:
            return datetime.now().astimezone()
        time.sleep(0.05)
    raise AssertionError(f"check did not become {wanted} within {limit}s: {body}")


def test_a_pinged_check_goes_late_then_down_within_a_second_of_each_deadline(
    database_url: str, tmp_path: Path
) -> None:
    key = create_key(database_url)
    with running_server(database_url, tmp_path / "server.log") as server:
        headers = {"Authorization": f"Bearer {key}"}
        with httpx.Client(base_url=server.url, headers=headers, timeout=10) as client:
            uuid = client.post(
                "/api/v1/checks", json={"name": "fast", "period": 2, "grace": 1}
            ).json()["uuid"]
            assert client.get(f"/ping/{uuid}").status_code == 200
            pinged = datetime.fromisoformat(
                client.get(f"/api/v1/checks/{uuid}").json()["last_ping"]
            )
            late_seen = _wait_for_status(client, uuid, "late", 5)
            down_seen = _wait_for_status(client, uuid, "down", 5)
            assert late_seen - (pinged + timedelta(seconds=2)) < timedelta(seconds=1)
            assert down_seen - (pinged + timedelta(seconds=3)) < timedelta(seconds=1)
            ready = client.get("/readyz")
            assert ready.status_code == 200, ready.text


async def _ping_concurrently(url: str, uuids: list[str], total: int) -> int:
    acknowledged = 0
    limits = httpx.Limits(max_connections=50)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:
        semaphore = asyncio.Semaphore(50)

        async def one(i: int) -> bool:
            async with semaphore:
                response = await client.post(f"/ping/{uuids[i % len(uuids)]}", content=f"ping {i}")
                return response.status_code == 200

        results = await asyncio.gather(*(one(i) for i in range(total)))
        acknowledged = sum(results)
    return acknowledged


def test_every_acknowledged_ping_survives_kill_9(database_url: str, tmp_path: Path) -> None:
    key = create_key(database_url)
    server = ServerProcess(database_url, tmp_path / "server.log")
    server.start()
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=server.url, headers=headers, timeout=10) as client:
        uuids = [
            client.post("/api/v1/checks", json={"name": f"c{i}"}).json()["uuid"] for i in range(10)
        ]
    acknowledged = asyncio.run(_ping_concurrently(server.url, uuids, 1000))
    assert acknowledged == 1000
    server.kill(signal.SIGKILL)

    server.start()
    try:
        with httpx.Client(base_url=server.url, headers=headers, timeout=10) as client:
            counts = [client.get(f"/api/v1/checks/{u}").json()["n_pings"] for u in uuids]
            stored = sum(
                len(client.get(f"/api/v1/checks/{u}/pings", params={"limit": 1000}).json()["pings"])
                for u in uuids
            )
    finally:
        server.kill(signal.SIGTERM)
    assert sum(counts) == 1000
    assert stored == 1000


def test_several_workers_share_the_port_and_the_database(database_url: str, tmp_path: Path) -> None:
    key = create_key(database_url)
    with running_server(database_url, tmp_path / "server.log", JOBPULSE_WORKERS="2") as server:
        headers = {"Authorization": f"Bearer {key}"}
        with httpx.Client(base_url=server.url, headers=headers, timeout=10) as client:
            uuids = [
                client.post("/api/v1/checks", json={"name": f"w{i}"}).json()["uuid"]
                for i in range(10)
            ]
            fast = client.post("/api/v1/checks", json={"name": "fast", "period": 2, "grace": 1})
            assert client.get(f"/ping/{fast.json()['uuid']}").status_code == 200
            assert asyncio.run(_ping_concurrently(server.url, uuids, 600)) == 600
            counts = [client.get(f"/api/v1/checks/{u}").json()["n_pings"] for u in uuids]
            # Request ids start with a per-process prefix: both processes answered.
            answering = set()
            for _ in range(200):
                ready = httpx.get(f"{server.url}/readyz")  # a new connection each time
                assert ready.status_code == 200, ready.text
                answering.add(ready.headers["x-request-id"][:16])
            _wait_for_status(client, fast.json()["uuid"], "down", 6)
    assert sum(counts) == 600
    assert len(answering) == 2


def test_workers_stop_when_their_supervisor_is_killed(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'workers.db'}"
    server = ServerProcess(database_url, tmp_path / "server.log", JOBPULSE_WORKERS="2")
    server.start()
    assert server.process is not None
    workers = child_pids(server.process.pid)
    assert len(workers) >= 2
    server.kill(signal.SIGKILL)
    deadline = time.monotonic() + 45  # graceful shutdown under a loaded CI machine
    while alive := [pid for pid in workers if is_running(pid)]:
        assert time.monotonic() < deadline, f"workers outlived their supervisor: {alive}"
        time.sleep(0.1)


def _watched_process(supervisor: int) -> subprocess.Popen[bytes]:
    """A process that watches the `supervisor` pid as a worker does, then idles."""
    code = (
        "import time; from jobpulse.serve_workers import exit_with_supervisor; "
        f"exit_with_supervisor({supervisor}, poll_seconds=0.05); time.sleep(30)"
    )
    return subprocess.Popen([sys.executable, "-c", code])


def test_a_worker_whose_supervisor_died_before_it_started_watching_stops_too() -> None:
    # The supervisor's pid comes from the supervisor: a worker that started watching only
    # after its supervisor died (re-parented already) must not take its new parent for it.
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    orphan = _watched_process(gone.pid)
    assert orphan.wait(10) == -signal.SIGTERM
    kept = _watched_process(os.getpid())  # this process: its parent
    try:
        with pytest.raises(subprocess.TimeoutExpired):  # its supervisor lives: it stays
            kept.wait(1.5)
    finally:
        kept.kill()
        kept.wait()
