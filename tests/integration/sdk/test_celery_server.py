"""A real Celery worker reports to a real jobpulse server: the runs `/api/v1/tasks` shows.

Heavy (`worker` mark): a worker process per broker and a server process per module."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from celery import Celery

from jobpulse.sdk.integrations.celery import CeleryIntegration
from tests.integration.sdk.conftest import outcomes, reporting_to, wait_for_runs, worker_serving
from tests.integration.sdk.workers import celery_worker_command, running_worker, worker_log
from tests.server import ServerProcess
from tests.services import AMQP_URL, REDIS_URL, require_service

pytestmark = pytest.mark.worker


@pytest.mark.parametrize("broker", ["redis", "rabbitmq"])
def test_the_server_shows_successes_failures_and_retries(
    broker: str, jobpulse_server: ServerProcess, tmp_path: Path
) -> None:
    require_service(broker)
    broker_url = REDIS_URL if broker == "redis" else AMQP_URL
    api_key = str(jobpulse_server.api_key)  # type: ignore[attr-defined]
    queue = f"jp-sdk-{uuid.uuid4().hex[:10]}"
    app = Celery("jobpulse_sdk_producer", broker=broker_url)
    app.conf.task_default_queue = queue
    producer, env = reporting_to(
        jobpulse_server.url,
        api_key,
        tmp_path,
        JOBPULSE_TEST_BROKER=broker_url,
        JOBPULSE_TEST_QUEUE=queue,
    )
    integration = CeleryIntegration()
    integration.setup(producer)
    command = celery_worker_command(queue)
    log_path = tmp_path / "worker.log"
    try:
        with running_worker(command, log_path, **env):
            ok = app.send_task("sdk.add", args=(2, 3)).id
            bad = app.send_task("sdk.explode", args=("boom",)).id
            flaky = app.send_task("sdk.flaky", args=(2,)).id
            hopeless = app.send_task("sdk.flaky", args=(9,)).id
            slow = app.send_task("sdk.slow").id
            wanted = {
                ok: "success",
                bad: "failed",
                flaky: "success",
                hopeless: "failed",
                slow: "failed",
            }
            if broker == "redis":  # RabbitMQ drops an expired message itself (per-message
                # TTL): no worker sees it. On Redis the worker revokes it as expired.
                stale_at = datetime.now(UTC) - timedelta(minutes=1)
                wanted[app.send_task("sdk.add", args=(1, 1), expires=stale_at).id] = "expired"
            try:
                runs = wait_for_runs(jobpulse_server, wanted)
            except AssertionError as exc:
                raise AssertionError(f"{exc}\n{worker_log(log_path)}") from None
            worker = worker_serving(jobpulse_server, "celery", queue)
    finally:
        integration.teardown()
        producer.close(timeout=2)
        app.close()

    assert runs[ok]["result"] == 5
    assert runs[ok]["queue_name"] == queue
    assert runs[ok]["task_name"] == "sdk.add"
    assert str(runs[ok]["worker_id"]).endswith("@localhost")
    assert runs[ok]["args"] == [2, 3]
    assert outcomes(runs[ok]) == [(1, "succeeded")]
    assert "RuntimeError: boom" in str(runs[bad]["error_message"])
    assert "RuntimeError: boom" in str(runs[bad]["traceback"])
    assert outcomes(runs[flaky]) == [(1, "retried"), (2, "retried"), (3, "succeeded")]
    assert runs[flaky]["job_retries"] == 2
    assert outcomes(runs[hopeless])[-1] == (4, "failed")
    assert "SoftTimeLimitExceeded" in str(runs[slow]["error_message"])
    assert worker is not None, "the worker's heartbeats reach GET /api/v1/workers"
    assert worker["status"] == "alive"
