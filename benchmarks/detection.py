"""Detection latency with 100,000 checks: from a check's deadline to its notice in the outbox.

    python benchmarks/detection.py --checks 100000 --due 100 [--database postgresql]

Starts a node (evaluator and alert loop at their default intervals, notifier off); `--due`
checks reach their deadline a few seconds in; and prints how long after each deadline its
outbox row was written (goal: at most 2 s), plus the CPU time of one alert-loop pass.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.ping_ingest import drop_schema, fresh_database  # noqa: E402
from jobpulse.config import Settings  # noqa: E402
from jobpulse.domain.checks import CheckState, PingKind, apply_ping  # noqa: E402
from jobpulse.domain.rules import percentile  # noqa: E402
from jobpulse.domain.schedule import Schedule  # noqa: E402
from jobpulse.runtime import Runtime  # noqa: E402
from jobpulse.store.alerts_tables import alert_outbox, incidents  # noqa: E402
from jobpulse.store.db import make_engine, migrate  # noqa: E402
from jobpulse.store.projects import ensure_project  # noqa: E402
from jobpulse.store.rows import schedule_values, state_values  # noqa: E402
from jobpulse.store.tables import checks  # noqa: E402

SCHEDULE = Schedule(period=timedelta(hours=1), grace=timedelta(minutes=5))
LEAD = timedelta(seconds=5)  # the due checks' deadline, after the node has started


def add_checks(url: str, count: int, pinged: datetime, prefix: str) -> None:
    """`count` checks last pinged at `pinged` (so down at pinged + period + grace)."""
    engine = make_engine(url)
    migrate(engine)
    state = apply_ping(CheckState(), SCHEDULE, PingKind.SUCCESS, pinged).state
    now = datetime.now(UTC)
    with engine.begin() as conn:
        project_id = ensure_project(conn)
        for first in range(0, count, 5000):
            rows = [
                {
                    "uuid": str(uuid.uuid4()),
                    "project_id": project_id,
                    "name": f"{prefix} {index}",
                    "tags": [],
                    "description": "",
                    "n_pings": 1,
                    "created_at": now,
                    "updated_at": now,
                    **schedule_values(SCHEDULE),
                    **state_values(state, SCHEDULE),
                }
                for index in range(first, min(first + 5000, count))
            ]
            conn.execute(insert(checks), rows)
    engine.dispose()


def outbox_times(runtime: Runtime) -> list[datetime]:
    with runtime.engine.connect() as conn:
        return list(conn.execute(select(alert_outbox.c.created_at)).scalars())


def measure(url: str, due: int, deadline: datetime) -> tuple[list[float], float, float]:
    os.environ["JOBPULSE_ALERTS_NOTIFIER_ENABLED"] = "false"  # keep the outbox rows
    runtime = Runtime(Settings(database_url=url, log_level="warning"))
    runtime.start()
    try:
        limit = time.monotonic() + LEAD.total_seconds() + 30
        while len(outbox_times(runtime)) < due and time.monotonic() < limit:
            time.sleep(0.05)
        latencies = [(at - deadline).total_seconds() for at in outbox_times(runtime)]
        runtime.alerting.loop.stop()
        started_cpu, started_wall = time.process_time(), time.perf_counter()
        runtime.alerting.loop.tick()
        cpu = time.process_time() - started_cpu
        wall = time.perf_counter() - started_wall
        with runtime.engine.connect() as conn:
            opened = conn.execute(select(func.count()).select_from(incidents)).scalar_one()
        assert opened == due, f"{opened} incidents for {due} due checks"
    finally:
        runtime.stop()
        runtime.engine.dispose()
    return latencies, cpu, wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--checks", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url, schema = fresh_database(args.database, Path(tmp))
        try:
            started = time.perf_counter()
            add_checks(url, args.checks - args.due, datetime.now(UTC), "healthy")
            deadline = datetime.now(UTC) + LEAD
            add_checks(url, args.due, deadline - SCHEDULE.period - SCHEDULE.grace, "due")
            print(f"populated in {time.perf_counter() - started:.1f} s", file=sys.stderr)
            latencies, cpu, wall = measure(url, args.due, deadline)
        finally:
            drop_schema(schema)
    print(f"database={args.database} checks={args.checks} due={args.due}")
    print(
        f"deadline -> outbox row: max {max(latencies):.2f} s, "
        f"p50 {percentile(tuple(latencies), 50):.2f} s (goal <= 2 s)"
    )
    print(
        f"alert loop pass with {args.due} open incidents: {cpu * 1000:.1f} ms CPU, "
        f"{wall * 1000:.1f} ms wall"
    )


if __name__ == "__main__":
    main()
