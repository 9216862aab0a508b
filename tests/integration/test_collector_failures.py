"""A broker that is down or does not answer gives a failed sample with the reason, quickly,
and the runner records it without blocking anything."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from jobpulse.collectors import SourceConfig, make_collector
from jobpulse.runtime import Runtime
from tests.integration.queue_fixtures import name, now, redis_url

__all__ = ["name", "redis_url"]


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def silent_server() -> Iterator[int]:
    """Accepts connections and never answers: a broker that hangs."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield int(server.getsockname()[1])
    stop.set()
    thread.join(2)
    for conn in held:
        conn.close()
    server.close()


@pytest.mark.parametrize("library", ["rq", "celery", "arq", "dramatiq", "huey", "rearq"])
def test_a_down_redis_gives_a_failed_sample_with_the_reason(library: str) -> None:
    url = f"redis://127.0.0.1:{_closed_port()}/0"
    collector = make_collector(SourceConfig(name="x", library=library, url=url, queues=("q",)))
    result = collector.sample(now())
    assert not result.ok
    assert "ConnectionError" in (result.error or "")


def test_a_down_rabbitmq_gives_a_failed_sample() -> None:
    url = f"amqp://guest:guest@127.0.0.1:{_closed_port()}//"
    collector = make_collector(SourceConfig(name="x", library="celery", url=url))
    result = collector.sample(now())
    assert not result.ok and result.error


def test_a_silent_broker_times_out_within_the_source_timeout(silent_server: int) -> None:
    url = f"redis://127.0.0.1:{silent_server}/0"
    config = SourceConfig(name="x", library="rq", url=url, timeout_seconds=0.3)
    started = time.monotonic()
    result = make_collector(config).sample(now())
    assert not result.ok and "Timeout" in (result.error or "")
    assert time.monotonic() - started < 5


def test_the_runner_records_a_failing_source_and_keeps_sampling_the_others(
    runtime: Runtime, client: TestClient, silent_server: int, redis_url: str, name: str
) -> None:
    import rq
    from redis import Redis

    rq.Queue(name, connection=Redis.from_url(redis_url)).enqueue("os.getpid")
    good = {"name": "good", "library": "rq", "url": redis_url, "queues": [name], "interval": 60}
    hung = {
        "name": "hung",
        "library": "rq",
        "url": f"redis://:hunter2@127.0.0.1:{silent_server}/0",
        "queues": ["q"],
        "interval": 60,
        "timeout": 0.3,
    }
    for source in (good, hung):
        assert client.post("/api/v1/sources", json=source).status_code == 201
    runtime.collectors.sweep_now()

    sources = {s["name"]: s for s in client.get("/api/v1/sources").json()["sources"]}
    assert sources["good"]["last_error"] is None
    assert "Timeout" in sources["hung"]["last_error"]
    assert "hunter2" not in client.get("/api/v1/sources").text
    (ours,) = [q for q in client.get("/api/v1/queues").json()["queues"] if q["name"] == name]
    assert ours["depth"] == 1 and ours["ok"] is True
