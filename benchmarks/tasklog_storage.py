"""Task log storage alone: events/s of the real ingest handler at a given table size.

No HTTP, no second process: request bodies are validated and prepared before the clock
starts, then stored by `TaskIngest` in write transactions of `--group` requests each (as the
group-commit writer does), on a database already holding `--grow-to` runs. It isolates what
the size of the tables costs the writer, which the HTTP benchmark (tasklog.py) mixes with
parsing and the client.

    python benchmarks/tasklog_storage.py /var/tmp/jp/storage.db --grow-to 9600000
    python benchmarks/tasklog_storage.py /var/tmp/jp/storage.db --sql "DROP INDEX ..."
    python benchmarks/tasklog_storage.py postgresql+psycopg://postgres@127.0.0.1/jp --runs 300000

On SQLite `--grow-to` first ingests `--seed-runs` runs, then copies them (new ids and job
ids, indexes rebuilt) until the table holds that many: minutes instead of the hours the
HTTP path would take. Copy the file before an experiment to start each one from the same
state.
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.tasklog import run_events
from jobpulse.api.events import decode_events
from jobpulse.domain.redact import Redactor
from jobpulse.store.db import make_engine, migrate
from jobpulse.store.projects import ensure_project
from jobpulse.store.tasks_ingest import TaskIngest
from jobpulse.store.tasks_prepare import EventBatch
from jobpulse.store.writer import GroupCommitWriter

WEEK = 7 * 86400.0


def bodies(first: int, runs: int, span_seconds: float, batch: int = 2000) -> Iterator[bytes]:
    """Request bodies of about `batch` events for runs first..first+runs, ending now."""
    rng = random.Random(first)
    now = datetime.now(UTC)
    pending: list[dict[str, object]] = []
    for index in range(first, first + runs):
        ago = span_seconds * (1 - (index - first) / runs)
        pending += run_events(rng, index, now - timedelta(seconds=ago))
        if len(pending) >= batch:
            yield orjson.dumps(pending)
            pending = []
    if pending:
        yield orjson.dumps(pending)


def machine_busy_seconds() -> float:
    """CPU-seconds every process of the machine has used so far (Linux; 0 elsewhere): with
    PostgreSQL the server's work is in another process, which process_time() misses."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return 0.0
    user, nice, system, _idle, _iowait, irq, softirq = map(int, fields[:7])
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def ingest(
    url: str, first: int, runs: int, group: int, span: float, report: int
) -> tuple[float, float, float]:
    """Stores the runs; prints the rate every `report` events; returns the overall rate, of
    the wall clock, per CPU-second of this process (all its threads: steadier than the
    wall clock on a shared machine) and per CPU-second of the whole machine."""
    engine = make_engine(url)
    with engine.begin() as conn:
        project_id = ensure_project(conn)
    redactor, handler = Redactor(), TaskIngest()
    batches = [
        EventBatch(project_id, [e.to_event(redactor) for e in decode_events(body)])
        for body in bodies(first, runs, span)
    ]
    for batch in batches:
        batch.prepare()  # the writer does this before its turn, outside the lock
    # The real writer, `group` requests per transaction: its connection, cache and commits.
    writer = GroupCommitWriter(engine, batch_max=group)
    writer.start()
    started = last_time = time.perf_counter()
    cpu_started, machine_started = time.process_time(), machine_busy_seconds()
    events = last_events = 0
    # All at once: the writer takes them `group` at a time, in order.
    for job in [writer.submit(handler, batch) for batch in batches]:
        events += job.result(600)
        if events - last_events >= report:
            now = time.perf_counter()
            print(f"  {events:>10,} events {(events - last_events) / (now - last_time):>9,.0f}/s")
            last_time, last_events = now, events
    rate = events / (time.perf_counter() - started)
    per_cpu = events / (time.process_time() - cpu_started)
    per_machine_cpu = events / max(machine_busy_seconds() - machine_started, 1e-9)
    writer.stop()
    engine.dispose()
    return rate, per_cpu, per_machine_cpu


def grow(path: str, seed_runs: int, total: int) -> None:
    """SQLite: copy the first seed_runs runs (and attempts) until there are `total`."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=OFF")  # a scratch copy: rebuilt, not recovered
    db.execute("PRAGMA synchronous=OFF")
    db.execute("PRAGMA cache_size=-2000000")
    indexes = db.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
        "AND tbl_name IN ('task_runs', 'task_attempts')"
    ).fetchall()
    db.execute("BEGIN")
    for name, _ in indexes:
        db.execute(f"DROP INDEX {name}")
    for table, id_column in (("task_runs", "id"), ("task_attempts", "run_id")):
        columns = [row[1] for row in db.execute(f"PRAGMA table_info({table})")]
        for copy in range(1, total // seed_runs):
            shifted = {id_column: f"{id_column} + {copy * seed_runs}"}
            if table == "task_runs":
                shifted["job_id"] = f"job_id || '-{copy}'"
            picked = ", ".join(shifted.get(c, c) for c in columns)
            db.execute(
                f"INSERT INTO {table} ({', '.join(columns)}) SELECT {picked} FROM {table} "
                f"WHERE {id_column} <= {seed_runs}"
            )
    for _, sql in indexes:
        db.execute(sql)
    db.execute("COMMIT")
    db.execute("PRAGMA journal_mode=WAL")
    db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database", help="a SQLite file or a database URL")
    parser.add_argument("--runs", type=int, default=300_000, help="runs to time")
    parser.add_argument("--group", type=int, default=3, help="requests per transaction")
    parser.add_argument("--grow-to", type=int, help="SQLite: runs in the table before timing")
    parser.add_argument("--seed-runs", type=int, default=200_000)
    parser.add_argument("--sql", action="append", default=[], help="run before timing")
    args = parser.parse_args()
    url = args.database if "://" in args.database else f"sqlite:///{args.database}"
    migrate(make_engine(url))
    if args.grow_to:
        if not url.startswith("sqlite"):
            raise SystemExit("--grow-to works on SQLite only")
        ingest(url, 0, args.seed_runs, 10, WEEK, report=10**12)
        grow(args.database, args.seed_runs, args.grow_to)
        print(f"grown to {args.grow_to:,} runs")
    engine = make_engine(url)
    with engine.begin() as conn:
        for sql in args.sql:
            conn.exec_driver_sql(sql)
        first = 1 + int(conn.exec_driver_sql("SELECT count(*) FROM task_runs").scalar_one())
    engine.dispose()
    # Runs of the last minutes, job ids after every stored one: the live ingest case.
    rate, per_cpu, per_machine_cpu = ingest(
        url, 10**9 + first, args.runs, args.group, 0.0, report=200_000
    )
    print(
        f"ingest (storage only) {rate:,.0f} events/s over {args.runs:,} runs, "
        f"{per_cpu:,.0f} per CPU-second of this process, "
        f"{per_machine_cpu:,.0f} per CPU-second of the machine"
    )


if __name__ == "__main__":
    main()
