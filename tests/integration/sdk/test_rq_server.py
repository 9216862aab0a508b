"""A real forking RQ worker reports to a real jobpulse server (`worker` mark)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from redis import Redis
from rq import Queue, Retry

from jobpulse.sdk.integrations.rq import RQIntegration
from tests.integration.sdk.apps import rq_app
from tests.integration.sdk.conftest import outcomes, reporting_to, wait_for_runs, worker_serving
from tests.integration.sdk.workers import running_worker, worker_log
from tests.server import ServerProcess
from tests.services import REDIS_URL, require_service

pytestmark = pytest.mark.worker


def test_the_server_shows_successes_failures_and_retries(
    jobpulse_server: ServerProcess, tmp_path: Path
) -> None:
    require_service("redis")
    api_key = str(jobpulse_server.api_key)  # type: ignore[attr-defined]
    name = f"jp-sdk-{uuid.uuid4().hex[:10]}"
    connection = Redis.from_url(REDIS_URL)
    producer, env = reporting_to(jobpulse_server.url, api_key, tmp_path)
    RQIntegration().setup(producer)
    command = ["python", "-m", "tests.integration.sdk.apps.rq_app", REDIS_URL, name]
    log_path = tmp_path / "worker.log"
    with running_worker(command, log_path, **env):
        queue = Queue(name, connection=connection)
        ok = queue.enqueue(rq_app.add, 2, 3).id
        bad = queue.enqueue(rq_app.explode, "boom").id
        flaky = queue.enqueue(rq_app.flaky, 2, retry=Retry(max=3)).id
        hopeless = queue.enqueue(rq_app.flaky, 9, retry=Retry(max=1)).id
        slow = queue.enqueue(rq_app.slow, job_timeout=1).id
        wanted = {
            ok: "success",
            bad: "failed",
            flaky: "success",
            hopeless: "failed",
            slow: "failed",
        }
        try:
            runs = wait_for_runs(jobpulse_server, wanted)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{worker_log(log_path)}") from None
        worker = worker_serving(jobpulse_server, "rq", name)
    producer.close(timeout=2)
    connection.close()

    assert runs[ok]["result"] == 5
    assert runs[ok]["queue_name"] == name
    assert str(runs[ok]["task_name"]).endswith("rq_app.add")
    assert outcomes(runs[ok]) == [(1, "succeeded")]
    assert "RuntimeError: boom" in str(runs[bad]["error_message"])
    assert outcomes(runs[flaky]) == [(1, "retried"), (2, "retried"), (3, "succeeded")]
    assert outcomes(runs[hopeless]) == [(1, "retried"), (2, "failed")]
    assert "JobTimeoutException" in str(runs[slow]["error_message"])
    assert worker is not None, "the worker's heartbeats reach GET /api/v1/workers"
    assert worker["status"] == "alive"
