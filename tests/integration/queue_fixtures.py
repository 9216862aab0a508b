"""Shared helpers of the collector tests: the real Redis/RabbitMQ, unique names, real worker
processes of each library, and polling for what those processes do."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from jobpulse.collectors import SourceConfig, make_collector
from jobpulse.domain.queues import QueueSample, SourceSample
from tests.services import require_service

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
# The collectors' tests keep to this Redis database and to unique names inside it.
REDIS_DB = 9
REDIS_URL = f"redis://127.0.0.1:6379/{REDIS_DB}"
AMQP_URL = "amqp://guest:guest@127.0.0.1:5672//"


@pytest.fixture
def redis_url() -> Iterator[str]:
    """The real Redis (a database of these tests); keys named after the test are removed."""
    require_service("redis")
    yield REDIS_URL


@pytest.fixture
def name() -> Iterator[str]:
    """A unique queue name; every Redis key containing it is deleted afterwards."""
    unique = f"jpq{uuid.uuid4().hex[:10]}"
    yield unique
    if not _redis_up():
        return
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=f"*{unique}*", count=1000))
    if keys:
        client.delete(*keys)
    for registry in ("rq:queues", "rq:workers"):  # sets whose own key holds no queue name
        members = [m for m in client.smembers(registry) if unique.encode() in m]
        if members:
            client.srem(registry, *members)
    client.close()


def _redis_up() -> bool:
    from tests.services import service_reachable

    return service_reachable("redis")


def now() -> datetime:
    return datetime.now(UTC)


def sample(config: SourceConfig, at: datetime | None = None) -> SourceSample:
    collector = make_collector(config)
    try:
        result = collector.sample(at or now())
    finally:
        collector.close()
    assert result.error is None, result.error
    return result


def queue_of(result: SourceSample, queue: str) -> QueueSample:
    found = [q for q in result.queues if q.queue == queue]
    assert found, f"{queue} not in {[q.queue for q in result.queues]}"
    return found[0]


def wait_until(condition: Callable[[], Any], timeout: float = 30.0, what: str = "") -> Any:
    """Poll `condition` until it is truthy: for what a real worker process does."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        time.sleep(0.1)


@contextmanager
def worker_process(
    command: list[str], env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """A real worker of a queue library, in its own process group, always stopped after."""
    full_env = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    process = subprocess.Popen(
        command,
        cwd=REPO,
        env=full_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        yield process
    finally:
        kill_tree(process)


def kill_tree(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL a worker and everything it started: work horses may sit in sessions of their
    own (RQ forks one per job), out of reach of the process group."""
    for child in _descendants(process.pid):
        with suppress(ProcessLookupError):
            os.kill(child, signal.SIGKILL)
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(10)


def _descendants(pid: int) -> list[int]:
    """Every process below `pid`, read from /proc (children first found, then theirs)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        parents.setdefault(parent, []).append(int(entry.name))
    found, frontier = [], [pid]
    while frontier:
        children = parents.get(frontier.pop(), [])
        found += children
        frontier += children
    return found


def tool(name: str) -> str:
    return str(BIN / name)
