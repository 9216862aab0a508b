"""arq with the integration, under a real `arq` worker on Redis (`worker` mark)."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest
from arq import create_pool
from arq.connections import RedisSettings

from jobpulse.sdk.client import Client
from jobpulse.sdk.integrations.arq import ArqIntegration
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


async def _enqueue(queue: str, calls: list[tuple[str, tuple[object, ...]]]) -> list[str]:
    redis = await create_pool(RedisSettings.from_dsn(REDIS_URL), default_queue_name=queue)
    try:
        jobs = [await redis.enqueue_job(name, *args) for name, args in calls]
        return [job.job_id for job in jobs if job is not None]
    finally:
        await redis.close()  # redis<5 (kept for rearq) has no aclose()


def test_a_real_worker_reports_success_failure_retries_and_timeouts(
    receiver: EventReceiver, tmp_path: Path
) -> None:
    require_service("redis")
    queue = f"jp-sdk-{uuid.uuid4().hex[:10]}"
    client = Client(receiver.url, spool_dir=tmp_path / "producer-spool", flush_interval=0.1)
    ArqIntegration().setup(client)
    log_path = tmp_path / "worker.log"
    env = {
        "JOBPULSE_URL": receiver.url,
        "JOBPULSE_SPOOL_DIR": str(tmp_path / "worker-spool"),
        "JOBPULSE_TEST_BROKER": REDIS_URL,
        "JOBPULSE_TEST_QUEUE": queue,
    }
    with running_worker(
        ["python", "-m", "arq", "tests.integration.sdk.apps.arq_app.WorkerSettings"],
        log_path,
        **env,
    ):
        ok, bad, flaky, hopeless, slow = asyncio.run(
            _enqueue(
                queue,
                [
                    ("add", (2, 3)),
                    ("explode", ("boom",)),
                    ("flaky", (2,)),
                    ("flaky", (9,)),
                    ("slow", ()),
                ],
            )
        )
        wanted = {
            (ok, "succeeded"),
            (bad, "failed"),
            (flaky, "succeeded"),
            (hopeless, "failed"),
            (slow, "failed"),
        }
        try:
            receiver.wait_for(lambda r: wanted <= {(e["job_id"], e["type"]) for e in r.events}, 60)
        except AssertionError:
            raise AssertionError(worker_log(log_path)) from None
    client.close(timeout=2)

    assert _events_of(receiver, ok) == [("enqueued", 1), ("started", 1), ("succeeded", 1)]
    assert _events_of(receiver, bad) == [("enqueued", 1), ("started", 1), ("failed", 1)]
    assert _events_of(receiver, flaky) == [
        ("enqueued", 1),
        ("started", 1),
        ("retried", 1),
        ("started", 2),
        ("retried", 2),
        ("started", 3),
        ("succeeded", 3),
    ]
    assert _events_of(receiver, hopeless)[-1] == ("failed", 3)
    by_key = {(e["job_id"], e["type"], e.get("attempt")): e for e in receiver.events}
    assert by_key[(ok, "succeeded", 1)]["result"] == 5
    assert by_key[(bad, "failed", 1)]["error"] == "RuntimeError: boom"
    assert by_key[(slow, "failed", 1)]["error"].startswith("TimeoutError")
