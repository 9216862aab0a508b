"""/healthz answers while the process runs; /readyz says 503, with the reason, whenever the
node cannot do its work: database, schema, writer, evaluator or another background loop."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from jobpulse.engine.loop import PeriodicLoop
from jobpulse.runtime import Runtime


class Crash(BaseException):
    """Ends a loop's thread the way an unexpected BaseException would."""


class LoopService:
    def __init__(self, loop: PeriodicLoop) -> None:
        self.loop = loop

    def start(self) -> None:
        self.loop.start()

    def stop(self) -> None:
        self.loop.stop()


def _eventually(client: TestClient, status: int, timeout: float = 5.0) -> dict[str, str]:
    deadline = time.monotonic() + timeout
    while True:
        response = client.get("/readyz")
        if response.status_code == status or time.monotonic() > deadline:
            assert response.status_code == status, response.text
            body: dict[str, str] = response.json()
            return body
        time.sleep(0.05)


@pytest.fixture
def ready(runtime: Runtime, client: TestClient) -> Iterator[TestClient]:
    """A node whose evaluator runs, so that it starts out ready."""
    runtime.evaluator.start()
    _eventually(client, 200)
    yield client
    runtime.evaluator.stop()


def test_healthz_answers_and_readyz_waits_for_the_evaluator(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    body = _eventually(client, 503)
    assert body["status"] == "unavailable"
    assert "evaluator loop not running" in body["reason"]


def test_ready_when_every_part_runs(ready: TestClient) -> None:
    assert ready.get("/readyz").json() == {"status": "ready"}


def test_a_schema_behind_the_code_is_not_ready(runtime: Runtime, ready: TestClient) -> None:
    with runtime.engine.begin() as conn:
        conn.execute(text("DELETE FROM alembic_version WHERE version_num LIKE '01%'"))
    body = _eventually(ready, 503)
    assert "schema not current" in body["reason"] and "jobpulse db upgrade" in body["reason"]


def test_a_dead_writer_is_not_ready(runtime: Runtime, ready: TestClient) -> None:
    runtime.writer.stop()
    assert "writer thread not running" in _eventually(ready, 503)["reason"]


def test_a_node_whose_wal_checkpoints_stopped_is_not_ready(
    runtime: Runtime, ready: TestClient
) -> None:
    checkpointer = runtime.writer._checkpointer
    if runtime.engine.dialect.name == "postgresql":
        assert checkpointer is None  # PostgreSQL checkpoints its own WAL
        return
    assert checkpointer is not None
    checkpointer.stop()
    assert "WAL checkpoints not running" in _eventually(ready, 503)["reason"]


def _add_loop(runtime: Runtime, tick: Callable[[], object], **options: float) -> PeriodicLoop:
    loop = PeriodicLoop("jobpulse-test-loop", 0.05, tick, **options)
    runtime.services.append(LoopService(loop))
    loop.start()
    return loop


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_background_loop_whose_thread_ended_is_not_ready(
    runtime: Runtime, ready: TestClient
) -> None:
    def crash() -> None:
        raise Crash("out of luck")

    _add_loop(runtime, crash)
    body = _eventually(ready, 503)
    assert body["reason"] == "jobpulse-test-loop loop has stopped: Crash: out of luck"


def test_a_failing_pass_is_logged_not_unready_but_a_hung_one_is(
    runtime: Runtime, ready: TestClient
) -> None:
    def fail() -> None:
        raise RuntimeError("broker unreachable")

    failing = _add_loop(runtime, fail)
    time.sleep(0.3)
    assert failing.last_error == "RuntimeError: broker unreachable"
    assert ready.get("/readyz").status_code == 200
    failing.stop()

    release = threading.Event()
    hung = _add_loop(runtime, release.wait, hung_after=0.2)
    try:
        assert "jobpulse-test-loop loop is stuck in a pass" in _eventually(ready, 503)["reason"]
    finally:
        release.set()
        hung.stop()
    _eventually(ready, 200)
