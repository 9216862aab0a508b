"""Huey with the integration, under a real `huey_consumer` on Redis (`worker` mark)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from huey import RedisHuey

from jobpulse.sdk.client import Client
from jobpulse.sdk.integrations.huey import HueyIntegration
from tests.integration.sdk.apps.huey_app import make_huey
from tests.integration.sdk.receiver import EventReceiver
from tests.integration.sdk.workers import running_worker, worker_log
from tests.services import REDIS_URL, require_service

pytestmark = pytest.mark.worker


def _events_of(receiver: EventReceiver, job_id: str) -> list[tuple[str, int | None]]:
    order = ["enqueued", "started", "retried", "succeeded", "failed"]
    return sorted(
        ((e["type"], e.get("attempt")) for e in receiver.events if e["job_id"] == job_id),
        key=lambda pair: (pair[1] or 0, order.index(pair[0])),
    )


def _send(huey: RedisHuey, task: Any) -> str:
    huey.enqueue(task)
    return str(task.id)


def test_a_real_consumer_reports_success_failure_and_retries(
    receiver: EventReceiver, tmp_path: Path
) -> None:
    require_service("redis")
    name = f"jp-sdk-{uuid.uuid4().hex[:10]}"
    huey, tasks = make_huey(name, REDIS_URL)
    client = Client(receiver.url, spool_dir=tmp_path / "producer-spool", flush_interval=0.1)
    HueyIntegration(huey).setup(client)
    log_path = tmp_path / "worker.log"
    env = {
        "JOBPULSE_URL": receiver.url,
        "JOBPULSE_SPOOL_DIR": str(tmp_path / "worker-spool"),
        "JOBPULSE_TEST_BROKER": REDIS_URL,
        "JOBPULSE_TEST_QUEUE": name,
    }
    command = [
        "python",
        "-m",
        "huey.bin.huey_consumer",
        "tests.integration.sdk.apps.huey_app.huey",
        "-w",
        "2",
        "-d",
        "0.05",
        "-m",
        "0.1",
    ]
    with running_worker(command, log_path, **env):
        ok = _send(huey, tasks["add"].s(2, 3))
        bad = _send(huey, tasks["explode"].s("boom"))
        flaky_id = _send(huey, tasks["flaky"].s(f"{name}:flaky", 2))
        wanted = {(ok, "succeeded"), (bad, "failed"), (flaky_id, "succeeded")}
        try:
            receiver.wait_for(lambda r: wanted <= {(e["job_id"], e["type"]) for e in r.events}, 60)
        except AssertionError:
            raise AssertionError(worker_log(log_path)) from None
    client.close(timeout=2)
    huey.storage.conn.delete(f"{name}:flaky")

    assert _events_of(receiver, ok) == [("enqueued", 1), ("started", 1), ("succeeded", 1)]
    assert _events_of(receiver, bad) == [("enqueued", 1), ("started", 1), ("failed", 1)]
    assert _events_of(receiver, flaky_id) == [
        ("enqueued", 1),
        ("started", 1),
        ("retried", 1),
        ("enqueued", 2),
        ("started", 2),
        ("retried", 2),
        ("enqueued", 3),
        ("started", 3),
        ("succeeded", 3),
    ]
    by_key = {(e["job_id"], e["type"], e.get("attempt")): e for e in receiver.events}
    assert by_key[(ok, "succeeded", 1)]["result"] == 5
    assert by_key[(bad, "failed", 1)]["error"] == "RuntimeError: boom"
    assert by_key[(flaky_id, "retried", 1)]["error"] == "ValueError: run 1 failed"
