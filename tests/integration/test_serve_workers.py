"""`jobpulse serve --workers N`: connections spread over the workers, dead workers replaced,
clear errors, clean stops. Real processes on a SQLite file."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.server import ServerProcess, child_pids, free_port, is_running


def _process_prefix(response: httpx.Response) -> str:
    """Request ids start with a per-process prefix."""
    return response.headers["x-request-id"][:16]


def _answering_processes(url: str, tries: int = 200) -> set[str]:
    """Processes seen answering requests made on a new connection each."""
    return {_process_prefix(httpx.get(f"{url}/readyz", timeout=10)) for _ in range(tries)}


def _wait_for_processes(url: str, count: int, limit: float = 30) -> set[str]:
    deadline = time.monotonic() + limit
    while len(seen := _answering_processes(url, 20)) < count:
        assert time.monotonic() < deadline, f"only {seen} answered within {limit}s"
    return seen


async def _keep_alive_clients(url: str, clients: int) -> list[str]:
    """Processes answering `clients` keep-alive clients that connect at the same moment, as
    SDK transports or a proxy's pool do; each client then sends a few requests."""

    async def one(client: httpx.AsyncClient) -> set[str]:
        return {_process_prefix(await client.get("/readyz")) for _ in range(5)}

    pool = [httpx.AsyncClient(base_url=url, timeout=10) for _ in range(clients)]
    try:
        answers = await asyncio.gather(*(one(client) for client in pool))
    finally:
        await asyncio.gather(*(client.aclose() for client in pool))
    assert all(len(answer) == 1 for answer in answers)  # one connection: one process
    return [answer.pop() for answer in answers]


def test_keep_alive_connections_opened_at_once_spread_over_the_workers(tmp_path: Path) -> None:
    server = ServerProcess(
        f"sqlite:///{tmp_path / 'w.db'}", tmp_path / "s.log", JOBPULSE_WORKERS="2"
    )
    server.start()
    try:
        _wait_for_processes(server.url, 2)
        by_client = asyncio.run(_keep_alive_clients(server.url, 16))
    finally:
        server.kill(signal.SIGTERM)
    per_process = sorted(by_client.count(prefix) for prefix in set(by_client))
    # Each connection goes to a worker chosen by the kernel's hash (both, in all but 2 of
    # 65,536 cases); one shared socket gave them all to whichever worker woke first.
    assert len(per_process) == 2, per_process


def _workers(supervisor: int) -> set[int]:
    """The supervisor's worker processes (not multiprocessing's resource tracker)."""
    return {
        pid
        for pid in child_pids(supervisor)
        if is_running(pid) and b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
    }


def test_a_worker_that_dies_is_replaced_and_sigterm_stops_them_all(tmp_path: Path) -> None:
    server = ServerProcess(
        f"sqlite:///{tmp_path / 'w.db'}", tmp_path / "s.log", JOBPULSE_WORKERS="2"
    )
    server.start()
    assert server.process is not None
    supervisor = server.process.pid
    try:
        before = _wait_for_processes(server.url, 2)
        workers = _workers(supervisor)
        victim = min(workers)
        subprocess.run(["kill", "-9", str(victim)], check=True)
        deadline = time.monotonic() + 30
        while len(_workers(supervisor) - {victim}) < len(workers):
            assert time.monotonic() < deadline, "the dead worker was not replaced"
            time.sleep(0.1)
        after = _wait_for_processes(server.url, 2)
        assert len(after - before) == 1  # one new process answers, the survivor still does
        survivors = _workers(supervisor)
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(60) == 0
        assert not any(is_running(pid) for pid in survivors)
    finally:
        server.kill(signal.SIGKILL)
    assert "starting another" in server.log_path.read_text()


def test_a_taken_port_is_a_clear_error(tmp_path: Path) -> None:
    port = free_port()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        done = subprocess.run(
            [sys.executable, "-m", "jobpulse.cli", "serve", "--workers", "2", "--port", str(port)],
            env={**os.environ, "JOBPULSE_DATABASE_URL": f"sqlite:///{tmp_path / 'w.db'}"},
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr
    assert "Traceback" not in done.stderr
