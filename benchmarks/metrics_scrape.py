"""How long one GET /metrics takes with a big task log (the world is read at scrape time).

    .venv/bin/python benchmarks/metrics_scrape.py --runs 200000 [--database postgresql]

Prints the median of 5 scrapes and the number of series returned.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from jobpulse.api.app import create_app
from jobpulse.config import Settings
from jobpulse.domain.runs import EventType, TaskEvent
from jobpulse.runtime import Runtime
from jobpulse.store.projects import ensure_project
from jobpulse.store.tasks_prepare import EventBatch

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def database_url(kind: str) -> tuple[str, str | None]:
    if kind == "sqlite":
        return f"sqlite:///{tempfile.mkdtemp()}/bench.db", None
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT").connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    return f"{POSTGRES_URL}?options=-csearch_path%3D{schema}", schema


def fill(runtime: Runtime, runs: int) -> None:
    """Runs go in through the real ingest handler, so raw rows and rollups both exist."""
    now = datetime.now(UTC)
    outcomes = (EventType.SUCCEEDED,) * 3 + (EventType.FAILED, EventType.STARTED, None)
    with runtime.engine.begin() as conn:
        project_id = ensure_project(conn)
    for first in range(0, runs, 5_000):
        events = []
        for n in range(first, min(first + 5_000, runs)):
            base = {
                "job_id": f"job-{n}",
                "task_name": f"app.tasks.task_{n % 200}",
                "queue": f"queue-{n % 20}",
            }
            created = now - timedelta(seconds=n % 86_400)
            events.append(TaskEvent(EventType.ENQUEUED, ts=created, **base))
            outcome = outcomes[n % len(outcomes)]
            if outcome is not None:
                events.append(TaskEvent(EventType.STARTED, ts=created, **base))
            if outcome not in (None, EventType.STARTED):
                finished = created + timedelta(milliseconds=n % 5000)
                events.append(TaskEvent(outcome, ts=finished, **base))  # type: ignore[arg-type]
        runtime.writer.run_sync(runtime.tasks.ingest, EventBatch(project_id, events), 600)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=200_000)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args()
    url, schema = database_url(args.database)
    runtime = Runtime(Settings(database_url=url))
    runtime.start(run_loops=False)
    try:
        fill(runtime, args.runs)
        with TestClient(create_app(runtime, manage_runtime=False)) as client:
            timings, cpu, body = [], [], ""
            for _ in range(5):
                started, started_cpu = time.perf_counter(), time.process_time()
                body = client.get("/metrics").text
                timings.append(time.perf_counter() - started)
                cpu.append(time.process_time() - started_cpu)
        series = sum(1 for line in body.splitlines() if line and not line.startswith("#"))
        print(
            f"{args.database}: {args.runs} task runs -> scrape median "
            f"{statistics.median(timings) * 1000:.0f} ms (CPU of this process "
            f"{statistics.median(cpu) * 1000:.0f} ms), {series} series"
        )
    finally:
        runtime.stop()
        runtime.engine.dispose()
        if schema:
            with create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT").connect() as conn:
                conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))


if __name__ == "__main__":
    main()
