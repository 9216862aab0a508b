"""Evaluator cost with 100,000 checks: how long one tick takes to find and flip due checks.

    python benchmarks/evaluator_scale.py --checks 100000 --due 1000 [--database postgresql]

Prints the time of a tick with nothing due (the indexed query alone) and of a tick that
flips `--due` checks, plus the query plan used.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.ping_ingest import drop_schema, fresh_database  # noqa: E402
from jobpulse.domain.checks import CheckState, PingKind, apply_ping  # noqa: E402
from jobpulse.domain.schedule import Schedule  # noqa: E402
from jobpulse.store.db import make_engine, migrate  # noqa: E402
from jobpulse.store.pings import evaluate_handler  # noqa: E402
from jobpulse.store.projects import ensure_project  # noqa: E402
from jobpulse.store.rows import schedule_values, state_values  # noqa: E402
from jobpulse.store.tables import checks  # noqa: E402


def populate(engine_url: str, total: int, due: int, now: datetime) -> None:
    engine = make_engine(engine_url)
    migrate(engine)
    schedule = Schedule(period=timedelta(hours=1), grace=timedelta(minutes=5))
    with engine.begin() as conn:
        project_id = ensure_project(conn)
        rows = []
        for i in range(total):
            # `due` checks pinged 2 hours ago (overdue), the rest a minute ago.
            pinged = now - (timedelta(hours=2) if i < due else timedelta(minutes=1))
            state = apply_ping(CheckState(), schedule, PingKind.SUCCESS, pinged).state
            rows.append(
                {
                    "uuid": str(uuid.uuid4()),
                    "project_id": project_id,
                    "name": f"check {i}",
                    "tags": [],
                    "description": "",
                    "n_pings": 1,
                    "created_at": now,
                    "updated_at": now,
                    **schedule_values(schedule),
                    **state_values(state, schedule),
                }
            )
            if len(rows) == 5000:
                conn.execute(insert(checks), rows)
                rows = []
        if rows:
            conn.execute(insert(checks), rows)
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--checks", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=1000)
    args = parser.parse_args()
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as tmp:
        url, schema = fresh_database(args.database, Path(tmp))
        try:
            populate(url, args.checks, args.due, now)
            engine = make_engine(url)
            with engine.begin() as conn:
                if args.database == "postgresql":
                    conn.execute(text("ANALYZE checks"))
                    plan_sql = "EXPLAIN SELECT * FROM checks WHERE next_deadline_at <= 1 "
                else:
                    plan_sql = (
                        "EXPLAIN QUERY PLAN SELECT * FROM checks WHERE next_deadline_at <= 1 "
                    )
                plan = [str(row[-1]) for row in conn.exec_driver_sql(plan_sql + "LIMIT 1000")]
            with engine.begin() as conn:
                started = time.perf_counter()
                flipped = evaluate_handler(conn, [now])[0]
                busy = time.perf_counter() - started
            with engine.begin() as conn:
                started = time.perf_counter()
                idle_result = evaluate_handler(conn, [now])[0]
                idle = time.perf_counter() - started
            engine.dispose()
        finally:
            drop_schema(schema)
    print(f"database={args.database} checks={args.checks} due={args.due}")
    print(f"plan: {' | '.join(plan)}")
    flips = len(flipped.flips)
    print(f"tick flipping {flipped.checked} due checks ({flips} flips): {busy * 1000:.1f} ms")
    print(f"tick with nothing due ({idle_result.checked} checked): {idle * 1000:.2f} ms")


if __name__ == "__main__":
    main()
