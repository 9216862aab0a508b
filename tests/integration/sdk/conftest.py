"""Fixtures for SDK tests: a loopback events receiver, and a real jobpulse server process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from jobpulse.sdk.client import Client
from tests.integration.sdk.receiver import EventReceiver
from tests.server import ServerProcess, create_key


@pytest.fixture
def receiver() -> Iterator[EventReceiver]:
    server = EventReceiver()
    server.start()
    yield server
    server.stop()
    assert not server.invalid, f"events the server would refuse: {server.invalid[:3]}"


@pytest.fixture(scope="module")
def jobpulse_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A real `jobpulse serve` on SQLite, shared by a module's tests (they use unique checks)."""
    directory = tmp_path_factory.mktemp("jobpulse-server")
    database_url = f"sqlite:///{directory / 'jobpulse.db'}"
    server = ServerProcess(database_url, directory / "server.log")
    server.start()
    server.api_key = create_key(database_url)  # type: ignore[attr-defined]
    yield server
    server.kill()


@pytest.fixture
def spool_dir(tmp_path: Path) -> Path:
    return tmp_path / "spool"


def create_check(server: ServerProcess, slug: str, **fields: object) -> dict[str, object]:
    """Create a check through the API; its `ping_key` is taken from the slug ping URL."""
    import httpx

    response = httpx.post(
        f"{server.url}/api/v1/checks",
        json={"name": slug, "slug": slug, **fields},
        headers={"Authorization": f"Bearer {server.api_key}"},  # type: ignore[attr-defined]
    )
    response.raise_for_status()
    check: dict[str, object] = response.json()
    check["ping_key"] = str(check["slug_ping_url"]).split("/ping/")[1].split("/")[0]
    return check


def get_json(server: ServerProcess, path: str, **params: object) -> object:
    import httpx

    response = httpx.get(
        f"{server.url}{path}",
        params=params,  # type: ignore[arg-type]
        headers={"Authorization": f"Bearer {server.api_key}"},  # type: ignore[attr-defined]
    )
    response.raise_for_status()
    return response.json()


def task_run(server: ServerProcess, job_id: str) -> dict[str, object] | None:
    """The run the server shows for `job_id` (with its attempts), or None if unknown yet."""
    import httpx

    response = httpx.get(
        f"{server.url}/api/v1/tasks/{job_id}",
        headers={"Authorization": f"Bearer {server.api_key}"},  # type: ignore[attr-defined]
    )
    if response.status_code == 404:
        return None
    response.raise_for_status()
    found: dict[str, object] = response.json()
    return found


def wait_for_runs(
    server: ServerProcess, wanted: dict[str, str], timeout: float = 60
) -> dict[str, dict[str, object]]:
    """Poll until each job id in `wanted` has a run in the given status; return the runs."""
    import time

    deadline = time.monotonic() + timeout
    runs: dict[str, dict[str, object]] = {}
    while time.monotonic() < deadline:
        runs = {job_id: run for job_id in wanted if (run := task_run(server, job_id))}
        if all(runs.get(job_id, {}).get("status") == status for job_id, status in wanted.items()):
            return runs
        time.sleep(0.2)
    raise AssertionError(f"runs not as wanted {wanted}: {runs}")


def outcomes(run: dict[str, object]) -> list[tuple[object, object]]:
    attempts = run.get("attempts")
    assert isinstance(attempts, list)
    return [(attempt["attempt"], attempt["outcome"]) for attempt in attempts]


def worker_serving(server: ServerProcess, library: str, queue: str) -> dict[str, object] | None:
    """The worker `GET /api/v1/workers` lists for this library and queue, if any."""
    found = get_json(server, "/api/v1/workers")
    assert isinstance(found, dict)
    for worker in found["workers"]:
        if worker["library"] == library and queue in worker["queues"]:
            return dict(worker)
    return None


def reporting_to(
    url: str, api_key: str | None, tmp_path: Path, **worker_env: str
) -> tuple[Client, dict[str, str]]:
    """A producer-side client for the test process, and the environment a worker process
    needs to report to the same server (its own spool directory)."""
    producer = Client(
        url, api_key, spool_dir=tmp_path / "producer-spool", flush_interval=0.1, backoff_max=1.0
    )
    env = {
        "JOBPULSE_URL": url,
        "JOBPULSE_API_KEY": api_key or "",
        "JOBPULSE_SPOOL_DIR": str(tmp_path / "worker-spool"),
        **worker_env,
    }
    return producer, env
