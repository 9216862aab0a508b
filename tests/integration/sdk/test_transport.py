"""The transport against a loopback receiver: batching, outage → spool → replay, fork, bounds."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from jobpulse.sdk.spool import Spool
from jobpulse.sdk.transport import Transport
from tests.integration.sdk.receiver import EventReceiver


def _event(number: int) -> dict[str, object]:
    return {
        "type": "started",
        "job_id": f"job-{number}",
        "task_name": "t",
        "queue": "q",
        "ts": time.time(),
    }


def _transport(url: str, spool_dir: Path, **options: object) -> Transport:
    defaults: dict[str, object] = {
        "flush_interval": 0.05,
        "backoff_base": 0.05,
        "backoff_max": 0.2,
        "timeout": 2.0,
        "spool_dir": spool_dir,
    }
    defaults.update(options)
    return Transport(url, "key", **defaults)  # type: ignore[arg-type]


def test_it_delivers_events_in_batches_with_iso_timestamps(
    receiver: EventReceiver, spool_dir: Path
) -> None:
    transport = _transport(receiver.url, spool_dir, batch_size=10)
    for number in range(35):
        transport.put(_event(number))
    assert transport.flush(10)
    receiver.wait_for(lambda r: len(r.events) == 35)
    assert receiver.requests >= 4
    assert receiver.events[0]["ts"].endswith("+00:00")
    transport.close()


def test_a_client_that_cannot_be_built_is_retried_not_fatal(
    receiver: EventReceiver, spool_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sender thread survives failing to build its HTTP client (as on an import that
    raced the job's thread) and delivers once it can."""
    real_client = httpx.Client
    failures = iter([SystemError("AST constructor recursion depth mismatch")])

    def flaky_client(*args: Any, **kwargs: Any) -> httpx.Client:
        for failure in failures:
            raise failure
        return real_client(*args, **kwargs)

    monkeypatch.setattr(httpx, "Client", flaky_client)
    transport = _transport(receiver.url, spool_dir)
    transport.put(_event(1))
    receiver.wait_for(lambda r: len(r.events) == 1)
    transport.put(_event(2))
    assert transport.flush(10)
    receiver.wait_for(lambda r: len(r.events) == 2)
    transport.close()


def test_it_spools_while_the_server_is_down_and_replays_once_without_duplicates(
    receiver: EventReceiver, spool_dir: Path
) -> None:
    receiver.stop()
    transport = _transport(receiver.url, spool_dir, batch_size=20)
    for number in range(100):
        transport.put(_event(number))
    assert transport.flush(10)
    assert Spool(spool_dir).pending(), "events went to the disk spool"
    assert transport.queued == 0

    receiver.start()
    for number in range(100, 150):
        transport.put(_event(number))
    receiver.wait_for(lambda r: len(r.events) >= 150)
    time.sleep(0.3)  # let a duplicate, if any were sent, arrive
    keys = receiver.keys()
    assert len(keys) == 150
    assert max(keys.values()) == 1
    assert not Spool(spool_dir).pending()
    transport.close()


def test_server_errors_are_retried_and_then_spooled(
    receiver: EventReceiver, spool_dir: Path
) -> None:
    receiver.failing_status = 503
    transport = _transport(receiver.url, spool_dir, retries=2)
    transport.put(_event(1))
    assert transport.flush(10)
    assert receiver.requests == 3
    receiver.failing_status = None
    receiver.wait_for(lambda r: len(r.events) == 1)
    transport.close()


def test_a_rejected_batch_is_dropped_not_retried(receiver: EventReceiver, spool_dir: Path) -> None:
    receiver.failing_status = 422
    transport = _transport(receiver.url, spool_dir)
    transport.put(_event(1))
    assert transport.flush(10)
    assert transport.rejected_events == 1
    assert receiver.requests == 1
    assert not Spool(spool_dir).pending()
    transport.close()


def test_one_invalid_event_loses_only_itself(receiver: EventReceiver, spool_dir: Path) -> None:
    receiver.invalid_job_ids = {"job-13"}
    transport = _transport(receiver.url, spool_dir, batch_size=100, flush_interval=60)
    for number in range(40):
        transport.put(_event(number))
    assert transport.flush(10)
    assert sorted(receiver.keys()) == sorted((f"job-{n}", "started") for n in range(40) if n != 13)
    assert transport.rejected_events == 1
    transport.close()


def test_put_never_blocks_and_drops_the_oldest_when_full(tmp_path: Path) -> None:
    unreachable = "http://10.255.255.1:9"  # black hole: connects would hang until timeout
    transport = _transport(unreachable, tmp_path / "spool", max_queue=100, flush_interval=60)
    started = time.perf_counter()
    for number in range(1000):
        transport.put(_event(number))
    elapsed = time.perf_counter() - started
    assert transport.queued == 100
    assert transport.dropped_events == 900
    assert elapsed < 1.0  # generous: a put is microseconds, a connect attempt is seconds
    transport.close(timeout=0.5)


def test_the_spool_is_capped_by_dropping_the_oldest_batches(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=2000)
    for number in range(50):
        spool.write([_event(number)])
    assert spool.size() <= 2000
    assert spool.dropped_events > 0
    newest = spool.claim(spool.pending()[-1])
    assert newest is not None and newest.events[0]["job_id"] == "job-49"


def test_close_spools_what_it_could_not_send(tmp_path: Path) -> None:
    transport = _transport("http://127.0.0.1:9", tmp_path / "spool", flush_interval=60)
    transport.put(_event(1))
    transport.close(timeout=5)
    batches = [
        Spool(tmp_path / "spool").claim(path) for path in Spool(tmp_path / "spool").pending()
    ]
    assert [event["job_id"] for batch in batches if batch for event in batch.events] == ["job-1"]


def test_a_forked_child_sends_its_own_events_and_none_of_the_parents(
    receiver: EventReceiver, spool_dir: Path
) -> None:
    transport = _transport(receiver.url, spool_dir, flush_interval=60)
    transport.put(_event(1))  # still queued in the parent at fork time
    pid = os.fork()
    if pid == 0:
        try:
            transport.put(_event(2))
            transport.flush(10)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    receiver.wait_for(lambda r: len(r.events) == 1)
    assert [event["job_id"] for event in receiver.events] == ["job-2"]
    transport.flush(10)
    receiver.wait_for(lambda r: len(r.events) == 2)
    transport.close()


def test_a_child_spools_before_exiting_and_the_parent_replays(
    receiver: EventReceiver, spool_dir: Path
) -> None:
    transport = _transport(receiver.url, spool_dir)
    transport.start()
    pid = os.fork()
    if pid == 0:
        try:
            transport.put(_event(7))
            transport.spool_pending()
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    receiver.wait_for(lambda r: len(r.events) == 1)
    assert receiver.events[0]["job_id"] == "job-7"
    transport.close()
