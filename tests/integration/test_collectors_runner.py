"""The collectors runner: samples on each source's interval in its own threads; a hung
sample is recorded as failed at its timeout and never stacks up or blocks the loop."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from jobpulse.collectors import Collector, SourceConfig
from jobpulse.domain.queues import QueueSample, WorkerObservation
from jobpulse.engine.collectors import CollectorsRunner
from jobpulse.runtime import Runtime
from tests.integration.queue_fixtures import wait_until


class Scripted(Collector):
    """A broker stand-in: answers a depth, or hangs until released."""

    library = "rq"

    def __init__(self, config: SourceConfig) -> None:
        super().__init__(config)
        self.release = threading.Event()
        self.hang = False
        self.calls = 0

    def read(self, now: datetime) -> tuple[list[QueueSample], list[WorkerObservation]]:
        self.calls += 1
        if self.hang:
            self.release.wait(30)
        return [QueueSample("default", self.calls)], []


def _runner(runtime: Runtime, clock: list[datetime], made: list[Scripted]) -> CollectorsRunner:
    def factory(config: SourceConfig) -> Collector:
        made.append(Scripted(config))
        return made[-1]

    return CollectorsRunner(
        runtime.engine, runtime.writer, clock=lambda: clock[0], collector_factory=factory
    )


def _queue(client: TestClient) -> dict:
    queues = client.get("/api/v1/queues").json()["queues"]
    return queues[0] if queues else {}


def _pump(runner: CollectorsRunner, condition: object, what: str) -> None:
    """Tick the loop (as its thread would) until the condition holds."""
    wait_until(lambda: (runner.tick(), condition())[1], what=what)  # type: ignore[operator]


def test_each_source_is_sampled_on_its_interval(runtime: Runtime, client: TestClient) -> None:
    source = {"name": "s", "library": "rq", "url": "redis://h/0", "interval": 10}
    assert client.post("/api/v1/sources", json=source).status_code == 201
    clock = [datetime.now(UTC) - timedelta(minutes=1)]
    made: list[Scripted] = []
    runner = _runner(runtime, clock, made)

    _pump(runner, lambda: made[0].calls == 1, "first sample")
    clock[0] += timedelta(seconds=5)
    runner.tick()
    assert made[0].calls == 1  # not due yet
    clock[0] += timedelta(seconds=6)
    runner.tick()
    _pump(runner, lambda: _queue(client).get("depth") == 2, "the second sample stored")
    assert made[0].calls == 2
    runner.stop()


def test_a_hung_sample_is_recorded_as_timed_out_and_not_stacked(
    runtime: Runtime, client: TestClient
) -> None:
    source = {"name": "s", "library": "rq", "url": "redis://h/0", "interval": 1, "timeout": 1}
    assert client.post("/api/v1/sources", json=source).status_code == 201
    clock = [datetime.now(UTC) - timedelta(minutes=1)]
    made: list[Scripted] = []
    runner = _runner(runtime, clock, made)
    _pump(runner, lambda: _queue(client).get("depth") == 1, "first sample stored")

    made[0].hang = True
    clock[0] += timedelta(seconds=1.5)
    runner.tick()
    wait_until(lambda: made[0].calls == 2, what="the hanging sample to start")
    for _ in range(5):  # the loop goes on; the source is not sampled again meanwhile
        clock[0] += timedelta(seconds=1.5)
        runner.tick()
    assert made[0].calls == 2
    _pump(runner, lambda: _queue(client).get("ok") is False, "the timeout to be recorded")
    assert "timed out" in _queue(client)["error"]

    made[0].hang = False
    made[0].release.set()
    clock[0] += timedelta(seconds=1.5)
    _pump(runner, lambda: made[0].calls == 3, "sampling to resume")
    runner.stop()


def test_only_one_node_samples_when_several_share_a_database(runtime: Runtime) -> None:
    """PostgreSQL nodes, or processes sharing one SQLite file (`serve --workers N`)."""
    clock = [datetime.now(UTC)]
    first, second = _runner(runtime, clock, []), _runner(runtime, clock, [])
    first.tick()
    second.tick()
    assert (first.leading, second.leading) == (True, False)
    first.stop()
    second.tick()  # the reload interval has not passed: it waits its turn
    clock[0] += timedelta(seconds=6)
    second.tick()
    assert second.leading
    second.stop()
