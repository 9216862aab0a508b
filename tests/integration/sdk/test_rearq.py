"""ReArq with the integration: a real ReArq worker and timer on Redis report to a real
jobpulse server, whose runs are then read back (`worker` mark)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from redis import Redis
from tortoise import Tortoise

from jobpulse.sdk.integrations.rearq import ReArqIntegration
from tests.integration.sdk.apps import rearq_app
from tests.integration.sdk.conftest import (
    get_json,
    outcomes,
    reporting_to,
    wait_for_runs,
    worker_serving,
)
from tests.integration.sdk.workers import running_worker, worker_log
from tests.server import ServerProcess
from tests.services import REDIS_URL, require_service

pytestmark = pytest.mark.worker

# ReArq's keys have no prefix and one timer may run per database: each test leases a database.
LEASED_DATABASES = range(10, 15)
LEASE_KEY = "jobpulse-test:lease"


@pytest.fixture
def rearq_redis() -> Iterator[str]:
    """A Redis database of this test's own, emptied of what ReArq and the tasks wrote."""
    require_service("redis")
    base, holder = REDIS_URL.rsplit("/", 1)[0], uuid.uuid4().hex
    for number in LEASED_DATABASES:
        client = Redis.from_url(f"{base}/{number}")
        if client.set(LEASE_KEY, holder, nx=True, ex=600):
            break
        client.close()
    else:
        pytest.fail(f"every Redis database in {LEASED_DATABASES} is leased by another test")
    try:
        yield f"{base}/{number}"
    finally:
        keys = [*client.scan_iter("rearq:*"), *client.scan_iter("jobpulse-test:*:flaky")]
        if keys:
            client.delete(*keys)
        if client.get(LEASE_KEY) == holder.encode():
            client.delete(LEASE_KEY)
        client.close()


@dataclass(frozen=True)
class Jobs:
    ok: str  # add(2, 3)
    bad: str  # raises RuntimeError("boom") on every try
    flaky: str  # fails twice, then succeeds
    slow: str  # outlives its 0.5 s timeout on every try
    later: str  # add(4, 5), deferred by 0.3 s
    stale: str  # its expire time has passed when the worker takes it
    sleepy: str  # canceled through ReArq's channel once it runs


async def _produce(server: ServerProcess, redis_url: str, queue: str, database_url: str) -> Jobs:
    await Tortoise.init(db_url=database_url, modules=rearq_app.MODELS)
    rearq, tasks = rearq_app.make_rearq(redis_url, queue)
    try:
        jobs = [
            await tasks["add"].delay(2, 3),
            await tasks["explode"].delay("boom"),
            await tasks["flaky"].delay(2),
            await tasks["slow"].delay(),
            await tasks["add"].delay(args=(4, 5), countdown=0.3),
            await tasks["add"].delay(6, 7, expire=datetime.now() - timedelta(seconds=1)),
            await tasks["sleepy"].delay(),
        ]
        sleepy = jobs[-1]
        assert sleepy is not None
        await asyncio.to_thread(wait_for_runs, server, {sleepy.job_id: "in_progress"})
        await tasks["sleepy"].cancel(sleepy.job_id)
    finally:
        await rearq.close()
        await Tortoise.close_connections()
    return Jobs(*(job.job_id for job in jobs if job is not None))


def _wait_for_worker(server: ServerProcess, queue: str) -> dict[str, object]:
    """The worker's first heartbeat: it comes once its consumer group exists."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if worker := worker_serving(server, "rearq", queue):
            return worker
        time.sleep(0.2)
    raise AssertionError("no heartbeat from the ReArq worker")


def test_the_server_shows_each_try_of_successes_failures_retries_and_timeouts(
    jobpulse_server: ServerProcess, rearq_redis: str, tmp_path: Path
) -> None:
    api_key = str(jobpulse_server.api_key)  # type: ignore[attr-defined]
    queue = f"jp-sdk-{uuid.uuid4().hex[:10]}"
    database_url = f"sqlite://{tmp_path / 'rearq.db'}"
    producer, env = reporting_to(
        jobpulse_server.url,
        api_key,
        tmp_path,
        JOBPULSE_TEST_BROKER=rearq_redis,
        JOBPULSE_TEST_QUEUE=queue,
        JOBPULSE_TEST_REARQ_DB=database_url,
    )
    ReArqIntegration().setup(producer)
    log_path = tmp_path / "worker.log"
    dropped_slow = False
    command = ["python", "-m", "tests.integration.sdk.apps.rearq_app"]
    with running_worker(command, log_path, **env):
        try:
            worker = _wait_for_worker(jobpulse_server, queue)
            jobs = asyncio.run(_produce(jobpulse_server, rearq_redis, queue, database_url))
            wanted = {
                jobs.ok: "success",
                jobs.bad: "failed",
                jobs.flaky: "success",
                jobs.slow: "failed",
                jobs.later: "success",
                jobs.stale: "expired",
                jobs.sleepy: "canceled",
            }
            try:
                runs = wait_for_runs(jobpulse_server, wanted)
            except AssertionError:
                # Under load ReArq itself sometimes drops a retry: its main loop reads the
                # retry before the job's row is back to "queued", logs "job … not found"
                # and never runs it. jobpulse must then show the tries that did run.
                if f"job {jobs.slow} not found" not in log_path.read_text(errors="replace"):
                    raise
                dropped_slow = True
                wanted[jobs.slow] = "retrying"
                runs = wait_for_runs(jobpulse_server, wanted, timeout=10)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{worker_log(log_path)}") from None
    stopped = worker_serving(jobpulse_server, "rearq", queue)  # its last heartbeat: offline
    producer.close(timeout=2)

    listed = get_json(jobpulse_server, "/api/v1/tasks", queue_name=queue, page_size=50)
    assert isinstance(listed, dict)
    assert sorted(run["job_id"] for run in listed["results"]) == sorted(wanted)

    ok = runs[jobs.ok]
    assert (ok["task_name"], ok["queue_name"], ok["args"]) == ("add", queue, [2, 3])
    assert ok["result"] == 5
    assert ok["worker_id"] == worker["worker_id"]
    assert outcomes(ok) == [(1, "succeeded")]
    assert outcomes(runs[jobs.later]) == [(1, "succeeded")]
    assert runs[jobs.later]["result"] == 9

    assert outcomes(runs[jobs.bad]) == [(1, "retried"), (2, "retried"), (3, "failed")]
    assert all(attempt["started_at"] for attempt in runs[jobs.bad]["attempts"])  # type: ignore[union-attr]
    assert runs[jobs.bad]["error_message"] == "RuntimeError: boom"
    assert "raise RuntimeError(message)" in str(runs[jobs.bad]["traceback"])

    assert outcomes(runs[jobs.flaky]) == [(1, "retried"), (2, "retried"), (3, "succeeded")]
    assert runs[jobs.flaky]["result"] == "recovered"

    slow_tries = outcomes(runs[jobs.slow])
    if dropped_slow:
        assert slow_tries == [(n, "retried") for n in range(1, len(slow_tries) + 1)]
    else:
        assert slow_tries == [(1, "retried"), (2, "retried"), (3, "failed")]
    assert str(runs[jobs.slow]["error_message"]).startswith("TimeoutError")

    assert outcomes(runs[jobs.stale]) == [(1, "expired")]
    assert outcomes(runs[jobs.sleepy]) == [(1, "canceled")]

    assert worker["status"] == "alive"
    assert worker["queues"] == [queue]
    assert stopped is not None and stopped["status"] == "stopped"
