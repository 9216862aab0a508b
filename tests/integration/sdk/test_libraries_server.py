"""Dramatiq, arq and Huey workers report to a real jobpulse server: the runs it then shows.

One case per library, each with a real worker process on Redis (`worker` mark). The event-
level details of each integration are covered by test_<library>.py against a receiver."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from jobpulse.sdk.client import Client
from tests.integration.sdk.conftest import outcomes, reporting_to, wait_for_runs
from tests.integration.sdk.workers import running_worker, worker_log
from tests.server import ServerProcess
from tests.services import REDIS_URL, require_service

pytestmark = pytest.mark.worker


@dataclass(frozen=True)
class Jobs:
    ok: str  # add(2, 3)
    bad: str  # raises RuntimeError("boom")
    flaky: str  # fails twice, then succeeds


def _dramatiq(queue: str, client: Client) -> Jobs:
    from dramatiq import Message
    from dramatiq.brokers.redis import RedisBroker

    from jobpulse.sdk.integrations.dramatiq import DramatiqIntegration

    broker = RedisBroker(url=REDIS_URL, namespace=queue)
    broker.declare_queue(queue)
    DramatiqIntegration(broker).setup(client)

    def send(actor: str, *args: object) -> str:
        message = Message(queue_name=queue, actor_name=actor, args=args, kwargs={}, options={})
        broker.enqueue(message)
        return message.message_id

    return Jobs(send("add", 2, 3), send("explode", "boom"), send("flaky", 2))


def _arq(queue: str, client: Client) -> Jobs:
    from arq import create_pool
    from arq.connections import RedisSettings

    from jobpulse.sdk.integrations.arq import ArqIntegration

    ArqIntegration().setup(client)

    async def enqueue() -> Jobs:
        redis = await create_pool(RedisSettings.from_dsn(REDIS_URL), default_queue_name=queue)
        try:
            jobs = [
                await redis.enqueue_job(name, *args)
                for name, args in (("add", (2, 3)), ("explode", ("boom",)), ("flaky", (2,)))
            ]
        finally:
            await redis.close()  # redis<5 (kept for rearq) has no aclose()
        return Jobs(*(job.job_id for job in jobs if job is not None))

    return asyncio.run(enqueue())


def _huey(queue: str, client: Client) -> Jobs:
    from jobpulse.sdk.integrations.huey import HueyIntegration
    from tests.integration.sdk.apps.huey_app import make_huey

    huey, tasks = make_huey(queue, REDIS_URL)
    HueyIntegration(huey).setup(client)
    calls = [tasks["add"].s(2, 3), tasks["explode"].s("boom"), tasks["flaky"].s(f"{queue}:n", 2)]
    for call in calls:
        huey.enqueue(call)
    return Jobs(*(str(call.id) for call in calls))


@dataclass(frozen=True)
class Library:
    command: list[str]
    produce: Callable[[str, Client], Jobs]


LIBRARIES = {
    "dramatiq": Library(
        [
            "python",
            "-m",
            "dramatiq",
            "tests.integration.sdk.apps.dramatiq_app",
            "--processes",
            "1",
            "--threads",
            "2",
        ],
        _dramatiq,
    ),
    "arq": Library(
        ["python", "-m", "arq", "tests.integration.sdk.apps.arq_app.WorkerSettings"], _arq
    ),
    "huey": Library(
        [
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
        ],
        _huey,
    ),
}


@pytest.mark.parametrize("name", sorted(LIBRARIES))
def test_the_server_shows_successes_failures_and_retries(
    name: str, jobpulse_server: ServerProcess, tmp_path: Path
) -> None:
    require_service("redis")
    library = LIBRARIES[name]
    api_key = str(jobpulse_server.api_key)  # type: ignore[attr-defined]
    queue = f"jp-sdk-{uuid.uuid4().hex[:10]}"
    producer, env = reporting_to(
        jobpulse_server.url,
        api_key,
        tmp_path,
        JOBPULSE_TEST_BROKER=REDIS_URL,
        JOBPULSE_TEST_QUEUE=queue,
        JOBPULSE_TEST_NAMESPACE=queue,
    )
    log_path = tmp_path / "worker.log"
    with running_worker(library.command, log_path, **env):
        jobs = library.produce(queue, producer)
        wanted = {jobs.ok: "success", jobs.bad: "failed", jobs.flaky: "success"}
        try:
            runs = wait_for_runs(jobpulse_server, wanted)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{worker_log(log_path)}") from None
    producer.close(timeout=2)

    assert runs[jobs.ok]["result"] == 5
    assert outcomes(runs[jobs.ok]) == [(1, "succeeded")]
    assert "RuntimeError: boom" in str(runs[jobs.bad]["error_message"])
    assert [outcome for _, outcome in outcomes(runs[jobs.flaky])] == [
        "retried",
        "retried",
        "succeeded",
    ]
