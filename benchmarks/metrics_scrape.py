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
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import create_engine, insert, text

from jobpulse.api.app import create_app
from jobpulse.config import Settings
from jobpulse.runtime import Runtime
from jobpulse.store.projects import ensure_project
from jobpulse.store.tasks_tables import task_runs

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def database_url(kind: str) -> tuple[str, str | None]:
    if kind == "sqlite":
        return f"sqlite:///{tempfile.mkdtemp()}/bench.db", None
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT").connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    return f"{POSTGRES_URL}?options=-csearch_path%3D{schema}", schema


def fill(runtime: Runtime, runs: int) -> None:
    now = datetime.now(UTC)
    statuses = ("success", "success", "success", "failed", "in_progress", "queued")
    with runtime.engine.begin() as conn:
        project_id = ensure_project(conn)
        for first in range(0, runs, 10_000):
            conn.execute(
                insert(task_runs),
                [
                    {
                        "project_id": project_id,
                        "job_id": f"job-{n}",
                        "task_name": f"app.tasks.task_{n % 200}",
                        "queue_name": f"queue-{n % 20}",
                        "status": statuses[n % len(statuses)],
                        "duration_ms": float(n % 5000),
                        "job_retries": 0,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for n in range(first, min(first + 10_000, runs))
                ],
            )


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
            timings, body = [], ""
            for _ in range(5):
                started = time.perf_counter()
                body = client.get("/metrics").text
                timings.append(time.perf_counter() - started)
        series = sum(1 for line in body.splitlines() if line and not line.startswith("#"))
        print(
            f"{args.database}: {args.runs} task runs -> scrape median "
            f"{statistics.median(timings) * 1000:.0f} ms, {series} series"
        )
    finally:
        runtime.stop()
        runtime.engine.dispose()
        if schema:
            with create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT").connect() as conn:
                conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))


if __name__ == "__main__":
    main()
