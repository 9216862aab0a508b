"""The server goes away while a real Celery worker keeps producing events.

Against a loopback receiver (10 s): every event arrives exactly once. Against the real
jobpulse server, killed with SIGKILL for a minute and restarted: every run is there,
complete. Heavy and slow: marked `worker` and `outage`; JOBPULSE_TEST_OUTAGE_SECONDS sets
the real server's outage (default 60).
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from celery import Celery

from jobpulse.sdk.integrations.celery import CeleryIntegration
from tests.integration.sdk.conftest import reporting_to
from tests.integration.sdk.receiver import EventReceiver
from tests.integration.sdk.workers import celery_worker_command, running_worker, worker_log
from tests.server import ServerProcess
from tests.services import REDIS_URL, require_service

pytestmark = [pytest.mark.worker, pytest.mark.outage]
OUTAGE_SECONDS = float(os.environ.get("JOBPULSE_TEST_OUTAGE_SECONDS", "60"))
RECEIVER_OUTAGE_SECONDS = 10.0


def _produce_through_an_outage(
    url: str,
    api_key: str | None,
    tmp_path: Path,
    outage: tuple[Callable[[], None], float, Callable[[], None]],
    all_arrived: Callable[[list[str]], bool],
) -> tuple[list[str], str]:
    """Run a worker and a producer (a task every 50 ms); stop the server, wait, restart it;
    wait until `all_arrived(sent)`. Returns the task ids sent and the queue name."""
    require_service("redis")
    stop_server, seconds, start_server = outage
    queue = f"jp-sdk-{uuid.uuid4().hex[:10]}"
    app = Celery("jobpulse_sdk_outage", broker=REDIS_URL)
    app.conf.task_default_queue = queue
    producer, env = reporting_to(
        url, api_key, tmp_path, JOBPULSE_TEST_BROKER=REDIS_URL, JOBPULSE_TEST_QUEUE=queue
    )
    integration = CeleryIntegration()
    integration.setup(producer)
    command = celery_worker_command(queue)
    sent: list[str] = []
    stop = threading.Event()

    def produce() -> None:
        while not stop.is_set():
            sent.append(app.send_task("sdk.add", args=(1, 2)).id)
            stop.wait(0.05)

    log_path = tmp_path / "worker.log"
    try:
        with running_worker(command, log_path, **env):
            producing = threading.Thread(target=produce)
            producing.start()
            try:
                time.sleep(2)
                stop_server()
                time.sleep(seconds)
                start_server()
                time.sleep(2)
            finally:
                stop.set()
                producing.join()
            deadline = time.monotonic() + 90
            while not all_arrived(sent):
                if time.monotonic() > deadline:
                    seen = getattr(all_arrived, "seen", "?")
                    raise AssertionError(
                        f"not everything arrived: sent {len(sent)}, seen {seen}\n"
                        f"{worker_log(log_path)}"
                    )
                time.sleep(0.5)
    finally:
        integration.teardown()
        producer.close(timeout=2)
        app.close()
    assert len(sent) > seconds * 5
    return sent, queue


def test_an_outage_loses_no_event_and_sends_none_twice(
    receiver: EventReceiver, tmp_path: Path
) -> None:
    def all_arrived(sent: list[str]) -> bool:
        keys = set(receiver.keys())
        return all((job, kind) in keys for job in sent for kind in ("enqueued", "succeeded"))

    outage = (receiver.stop, RECEIVER_OUTAGE_SECONDS, receiver.start)
    sent, _ = _produce_through_an_outage(receiver.url, None, tmp_path, outage, all_arrived)

    counts = Counter((e["job_id"], e["type"], e.get("attempt")) for e in receiver.events)
    assert {kind for (_, kind, _) in counts} == {"enqueued", "started", "succeeded"}
    assert len(counts) == 3 * len(sent)
    assert max(counts.values()) == 1, [key for key, n in counts.items() if n > 1][:5]


def test_a_killed_server_gets_every_run_once_it_is_back(
    jobpulse_server: ServerProcess, tmp_path: Path
) -> None:
    api_key = str(jobpulse_server.api_key)  # type: ignore[attr-defined]
    headers = {"Authorization": f"Bearer {api_key}"}
    queue_holder: list[str] = []

    def job_ids(**filters: str) -> set[str]:
        """Every run's job id matching the filters (paging: the API caps its counts)."""
        found: set[str] = set()
        for page in range(1, 100):
            response = httpx.get(
                f"{jobpulse_server.url}/api/v1/tasks",
                headers=headers,
                params={**filters, "page_size": 1000, "page": page},
            )
            if response.status_code != 200:
                return set()
            results = response.json()["results"]
            found.update(run["job_id"] for run in results)
            if len(results) < 1000:
                break
        return found

    def succeeded_in_queue(queue: str) -> int:
        return len(job_ids(queue_name=queue, status="success"))

    def all_arrived(sent: list[str]) -> bool:
        queue = httpx.get(f"{jobpulse_server.url}/api/v1/tasks/{sent[0]}", headers=headers)
        if queue.status_code != 200:
            return False
        queue_holder[:] = [str(queue.json()["queue_name"])]
        succeeded = succeeded_in_queue(queue_holder[0])
        all_arrived.seen = (  # type: ignore[attr-defined]
            f"{succeeded} succeeded; server log: "
            f"{jobpulse_server.log_path.read_text(errors='replace')[-1500:]}"
        )
        return succeeded == len(sent)

    outage = (jobpulse_server.kill, OUTAGE_SECONDS, jobpulse_server.start)
    sent, queue = _produce_through_an_outage(
        jobpulse_server.url, api_key, tmp_path, outage, all_arrived
    )
    assert job_ids(queue_name=queue) == set(sent)  # no run lost, none extra
