"""Task log at volume: ingest rate through the HTTP API, then list/stats/timeline latency.

Generates realistic runs over the last 7 days (60 tasks on 8 queues, 2 % failures, 3 %
retried once, long-tail durations), posts their events in batches to a real `jobpulse serve`
on a fresh database, then times the read endpoints one request at a time.

    python benchmarks/tasklog.py --rows 200000 --database sqlite
    python benchmarks/tasklog.py --rows 200000 --database postgresql
    python benchmarks/tasklog.py --rows 10000000 --keep /var/tmp/jp   # keep db and bodies
    python benchmarks/tasklog.py --reads-only 'sqlite:////var/tmp/jp/bench.db'
    python benchmarks/tasklog.py --rows 500000 --first-run 10000000 \
        --onto 'sqlite:////var/tmp/jp/copy.db' --keep /var/tmp/jp   # 500 k more runs on top
    python benchmarks/tasklog.py --database postgresql --copy-from /var/tmp/jp/bench.db
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.server import create_key, running_server  # noqa: E402

from benchmarks.ping_ingest import drop_schema, fresh_database  # noqa: E402

QUEUES = [f"queue-{i}" for i in range(8)]
TASKS = [(f"app.tasks.job_{i}", QUEUES[i % len(QUEUES)]) for i in range(60)]
ERRORS = [
    "TimeoutError: read timeout after {n}s",
    "ConnectionError: host 10.0.{n}.1 refused",
    "KeyError: 'user-{n}'",
]


def iso(moment: datetime) -> str:
    return moment.isoformat()


def job_id_of(rng: random.Random, index: int, kind: str) -> str:
    """A random UUID, as Celery, RQ, arq, Dramatiq and Huey give their jobs (each insert
    lands at a random place in the job id index), or a counter (appends only: kinder)."""
    if kind == "uuid":
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))
    return f"job-{index:09d}"


def run_events(
    rng: random.Random, index: int, created: datetime, job_ids: str = "uuid"
) -> list[dict[str, Any]]:
    task, queue = TASKS[min(int(rng.paretovariate(1.2)) - 1, len(TASKS) - 1)]
    job_id = job_id_of(rng, index, job_ids)
    base = {"job_id": job_id, "task_name": task, "queue": queue}
    worker = f"worker-{rng.randrange(16)}"
    events = [
        {**base, "type": "enqueued", "ts": iso(created), "args": [index],
         "kwargs": {"tenant": index % 97, "token": "secret"}, "max_retries": 3},
    ]  # fmt: skip
    start = created + timedelta(milliseconds=rng.expovariate(1 / 50))
    attempt = 1
    if rng.random() < 0.03:
        failed_at = start + timedelta(milliseconds=rng.lognormvariate(5, 1))
        events += [
            {**base, "type": "started", "ts": iso(start), "worker_id": worker},
            {**base, "type": "retried", "ts": iso(failed_at), "error": "TimeoutError: 30s",
             "retry_after": 5},
        ]  # fmt: skip
        attempt = 2
        start = failed_at + timedelta(seconds=5)
    duration_ms = rng.lognormvariate(4.5, 1.3) if rng.random() > 0.01 else rng.uniform(6e4, 6e5)
    finish = start + timedelta(milliseconds=duration_ms)
    events.append({**base, "type": "started", "ts": iso(start), "worker_id": worker,
                   "attempt": attempt})  # fmt: skip
    if rng.random() < 0.02:
        error = rng.choice(ERRORS).format(n=rng.randrange(1000))
        events.append({**base, "type": "failed", "ts": iso(finish), "attempt": attempt,
                       "error": error, "traceback": f"Traceback ...\n{error}\n"})  # fmt: skip
    else:
        events.append({**base, "type": "succeeded", "ts": iso(finish), "attempt": attempt,
                       "result": {"ok": True}})  # fmt: skip
    return events


def bodies(
    rows: int,
    batch: int,
    first_run: int = 0,
    job_ids: str = "uuid",
    split: bool = False,
    seed: int = 1,
) -> Iterator[tuple[bytes, int]]:
    """Request bodies of about `batch` events, runs in creation order over 7 days; job ids
    count from `first_run` (more runs for a database an earlier run kept).

    `split` sends each run's `enqueued` event and its worker's events in different requests,
    as the SDK does in production (the producer and the worker each batch their own): a
    run is inserted by one request and folded again by another, in either order."""
    rng = random.Random(seed + first_run)
    now = datetime.now(UTC)
    span = timedelta(days=7).total_seconds()
    producer: list[dict[str, Any]] = []
    worker: list[dict[str, Any]] = []
    for index in range(rows):
        created = now - timedelta(seconds=span * (1 - index / rows)) - timedelta(minutes=10)
        events = run_events(rng, first_run + index, created, job_ids)
        if split:
            producer.append(events[0])
            worker += events[1:]
        else:
            producer += events
        for pending in (producer, worker):
            if len(pending) >= batch:
                yield orjson.dumps(pending), len(pending)
                pending.clear()
    for pending in (producer, worker):
        if pending:
            yield orjson.dumps(pending), len(pending)


def spool_bodies(
    rows: int, batch: int, first_run: int, job_ids: str, split: bool, path: Path
) -> int:
    """Write the request bodies to a file before the clock starts (10 M runs are ~8 GB of
    JSON: too much to hold in memory, too slow to generate while measuring). Returns the
    number of events."""
    n_events = 0
    with path.open("wb") as spool:
        for body, count in bodies(rows, batch, first_run, job_ids, split):
            spool.write(len(body).to_bytes(8, "big"))
            spool.write(body)
            n_events += count
    return n_events


def spooled(path: Path) -> Iterator[bytes]:
    with path.open("rb") as spool:
        while header := spool.read(8):
            yield spool.read(int.from_bytes(header, "big"))


async def ingest(url: str, key: str, payloads: Iterator[bytes], concurrency: int) -> float:
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=120) as client:

        async def worker() -> None:
            for body in payloads:  # shared: each body goes to one worker
                response = await client.post("/api/v1/events", content=body)
                if response.status_code != 202:
                    raise SystemExit(f"ingest failed: {response.status_code} {response.text}")

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - started


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_cpu_seconds(pid: int) -> float:
    """CPU time of the server process and its workers (`serve --workers N`)."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    kids = [int(c) for c in children.read_text().split()] if children.exists() else []
    return cpu_seconds(pid) + sum(cpu_seconds(kid) for kid in kids)


def latencies(client: httpx.Client, requests: list[tuple[str, dict[str, Any]]]) -> list[float]:
    found = []
    for path, params in requests:
        started = time.perf_counter()
        response = client.get(path, params=params)
        found.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{path} {params}: {response.status_code} {response.text[:300]}")
    return found


def summary(name: str, values: list[float], goal_ms: float) -> str:
    values = sorted(values)
    p50 = statistics.median(values)
    p95 = values[min(len(values) - 1, int(0.95 * len(values)))]
    verdict = "ok" if p95 < goal_ms else "MISSED"
    return (
        f"{name:<22} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms   (goal p95 < {goal_ms:g} ms: {verdict})"
    )


LIST_VARIANTS = (
    "failed, last 24 h",
    "one task",
    "one queue, successful, last 24 h",
    "failed or retrying",
    "one task, slowest first",
)


def list_params(rng: random.Random, variant: int, day_ago: str) -> dict[str, Any]:
    task, queue = TASKS[rng.randrange(len(TASKS))]
    return [
        {"status": "failed", "created_after": day_ago},
        {"task_name_exact": task, "page_size": 50},
        {"queue_name": queue, "is_successful": "true", "created_after": day_ago},
        {"status_in": "failed,retrying", "ordering": "-created_at"},
        {"task_name_exact": task, "ordering": "-duration_ms", "page_size": 20},
    ][variant]


def read_benchmark(url: str, key: str, samples: int) -> list[str]:
    rng = random.Random(2)
    day_ago = (datetime.now(UTC) - timedelta(hours=24)).isoformat()
    per_variant = max(1, samples // len(LIST_VARIANTS))
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=url, headers=headers, timeout=60) as client:
        warm = [("/api/v1/tasks", list_params(rng, i % 5, day_ago)) for i in range(10)]
        latencies(client, warm)  # caches and connections
        by_variant = [
            latencies(
                client,
                [("/api/v1/tasks", list_params(rng, v, day_ago)) for _ in range(per_variant)],
            )
            for v in range(len(LIST_VARIANTS))
        ]
        lines = [summary("filtered list (all)", [t for ts in by_variant for t in ts], 50)]
        lines += [
            "  " + summary(name[:20], times, 50)
            for name, times in zip(LIST_VARIANTS, by_variant, strict=True)
        ]
        stats_request = ("/api/v1/tasks/stats", {"period_hours": 24})
        timeline_request = ("/api/v1/tasks/timeline", {"period_hours": 168, "interval": "hour"})
        lines.append(summary("stats 24 h", latencies(client, [stats_request] * samples), 200))
        lines.append(
            summary("timeline 7 d hourly", latencies(client, [timeline_request] * samples), 200)
        )
        stats = client.get("/api/v1/tasks/stats", params={"period_hours": 24}).json()
        lines.append(
            f"24 h stats: total {stats['total']}, failed {stats['failed']}, "
            f"p50/p95/p99 {stats['p50_duration_ms']}/{stats['p95_duration_ms']}/"
            f"{stats['p99_duration_ms']} ms"
        )
    return lines


def measure_ingest(
    args: argparse.Namespace, database_url: str, spool_path: Path, n_events: int, log: Path
) -> None:
    key = create_key(database_url)
    with running_server(
        database_url, log, JOBPULSE_LOG_LEVEL="warning", JOBPULSE_WORKERS=str(args.workers)
    ) as server:
        assert server.process is not None
        cpu_before = server_cpu_seconds(server.process.pid)
        payloads = spooled(spool_path)
        elapsed = asyncio.run(ingest(server.url, key, payloads, args.concurrency))
        server_cpu = server_cpu_seconds(server.process.pid) - cpu_before
        rate = n_events / elapsed
        print(
            f"database {args.database}, {args.rows} runs, {n_events} events, "
            f"{args.workers} worker(s), {args.concurrency} requests in flight"
        )
        verdict = "ok" if rate >= 50_000 else "MISSED"
        print(
            f"ingest                 {rate:9,.0f} events/s ({args.rows / elapsed:,.0f} "
            f"runs/s, {elapsed:.1f} s; goal >= 50,000 events/s: {verdict})"
        )
        print(
            f"ingest per server CPU  {n_events / server_cpu:9,.0f} events per CPU-second "
            f"of the jobpulse process (machine load {os.getloadavg()[0]:.1f})"
        )
        for line in read_benchmark(server.url, key, args.samples):
            print(line)


def measure_reads(database_url: str, samples: int, log: Path) -> None:
    """Reads only, on a database an earlier run kept (migrated to this code first)."""
    key = create_key(database_url)
    with running_server(database_url, log, JOBPULSE_LOG_LEVEL="warning") as server:
        print(f"reads on {database_url} (machine load {os.getloadavg()[0]:.1f})")
        for line in read_benchmark(server.url, key, samples):
            print(line)


TASK_LOG_TABLES = (
    "task_runs",
    "task_attempts",
    "task_rollups",
    "task_rollup_durations",
    "task_project_durations",
)


def copy_sqlite_task_log(sqlite_path: Path, database_url: str) -> None:
    """Copy a kept SQLite benchmark's task log into a migrated PostgreSQL schema, so reads
    can be timed at 10 M runs without another hour of HTTP ingest. Indexes are dropped for
    the copy and rebuilt from their own definitions."""
    import sqlite3

    import psycopg

    source = sqlite3.connect(f"file:{sqlite_path}?mode=ro", uri=True)
    dsn = database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn) as target, target.cursor() as cursor:
        for table in TASK_LOG_TABLES:
            indexes = cursor.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s "
                "AND schemaname = current_schema() AND indexname NOT IN "
                "(SELECT conname FROM pg_constraint)",
                (table,),
            ).fetchall()
            for name, _ in indexes:
                cursor.execute(f"DROP INDEX {name}")
            columns = [row[1] for row in source.execute(f"PRAGMA table_info({table})")]
            names = ", ".join(columns)
            started = time.perf_counter()
            with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in source.execute(f"SELECT {names} FROM {table}"):
                    copy.write_row(row)
            for _, definition in indexes:
                cursor.execute(definition)
            print(f"copied {table} in {time.perf_counter() - started:.0f} s")
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('task_runs', 'id'), max(id)) FROM task_runs"
        )
        target.commit()
        target.autocommit = True
        cursor.execute("VACUUM ANALYZE")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000, help="task runs to generate")
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--batch", type=int, default=2000, help="events per request")
    parser.add_argument("--concurrency", type=int, default=4, help="requests in flight")
    parser.add_argument("--samples", type=int, default=200, help="requests per read figure")
    parser.add_argument("--workers", type=int, default=1, help="jobpulse serve --workers")
    parser.add_argument(
        "--keep",
        type=Path,
        metavar="DIR",
        help="keep the database (SQLite file in DIR, or the PostgreSQL schema) and the "
        "request bodies (DIR/bodies-ROWS.bin, reused by a later run with the same --rows)",
    )
    parser.add_argument(
        "--job-ids",
        choices=["uuid", "sequential"],
        default="uuid",
        help="random UUIDs as the queue libraries make them (default), or a counter "
        "(what figures before 2026-12-06 used)",
    )
    parser.add_argument(
        "--split",
        action="store_true",
        help="enqueued events and workers' events in different requests, as in production",
    )
    parser.add_argument(
        "--onto",
        metavar="DATABASE_URL",
        help="ingest into this database (one an earlier run kept) instead of a fresh one; "
        "with --first-run past its runs, this times ingest on top of a big task log",
    )
    parser.add_argument(
        "--first-run", type=int, default=0, help="number of the first generated run (job id)"
    )
    parser.add_argument(
        "--reads-only", metavar="DATABASE_URL", help="only time the reads, on a kept database"
    )
    parser.add_argument(
        "--copy-from",
        type=Path,
        metavar="SQLITE_FILE",
        help="with --database postgresql: copy a kept SQLite run's task log into a fresh "
        "schema and time the reads there",
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        if args.reads_only:
            measure_reads(args.reads_only, args.samples, Path(tmp) / "server.log")
            return
        if args.copy_from:
            database_url, schema = fresh_database("postgresql", Path(tmp))
            create_key(database_url)  # migrates the schema
            copy_sqlite_task_log(args.copy_from, database_url)
            measure_reads(database_url, args.samples, Path(tmp) / "server.log")
            print(f"kept the database: {database_url}")
            return
        workdir = args.keep or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        first = f"-from-{args.first_run}" if args.first_run else ""
        ids = "" if args.job_ids == "uuid" else f"-{args.job_ids}"
        split = "-split" if args.split else ""
        spool_path = workdir / f"bodies-{args.rows}-{args.batch}{first}{ids}{split}.bin"
        count_path = spool_path.with_suffix(".events")
        if count_path.exists():
            n_events = int(count_path.read_text())
        else:
            n_events = spool_bodies(
                args.rows, args.batch, args.first_run, args.job_ids, args.split, spool_path
            )
            count_path.write_text(str(n_events))
        if args.onto:
            args.database = "postgresql" if args.onto.startswith("postgresql") else "sqlite"
            measure_ingest(args, args.onto, spool_path, n_events, workdir / "server.log")
            return
        if args.database == "sqlite":
            for stale in workdir.glob("bench.db*"):
                stale.unlink()
        database_url, schema = fresh_database(args.database, workdir)
        try:
            measure_ingest(args, database_url, spool_path, n_events, workdir / "server.log")
        finally:
            if args.keep:
                print(f"kept the database: {database_url}")
            else:
                drop_schema(schema)


if __name__ == "__main__":
    main()
