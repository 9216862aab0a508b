"""Durable pings per second through HTTP, with group commit and with a commit per ping.

Starts `jobpulse serve` on a fresh database, creates checks, drives concurrent POST pings
with wrk (Debian package `wrk`; falls back to an asyncio client), then counts the pings
stored in the database: only acknowledged *and* stored pings count.

    python benchmarks/ping_ingest.py --database sqlite --duration 10
    python benchmarks/ping_ingest.py --database postgresql --duration 10
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from sqlalchemy import create_engine, func, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.server import ServerProcess, create_key  # noqa: E402

from jobpulse.store.tables import pings  # noqa: E402

POSTGRES_URL = os.environ.get(
    "JOBPULSE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
WRK_SCRIPT = """
local uuids = {%s}
local counter = 0
request = function()
  counter = counter + 1
  return wrk.format("POST", "/ping/" .. uuids[(counter %% #uuids) + 1], nil, "ok")
end
"""


def fresh_database(kind: str, workdir: Path) -> tuple[str, str | None]:
    if kind == "sqlite":
        return f"sqlite:///{workdir / 'bench.db'}", None
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    with create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT").connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    return f"{POSTGRES_URL}?options=-csearch_path%3D{schema}", schema


def drop_schema(schema: str | None) -> None:
    if schema:
        with create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT").connect() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))


def drive_with_wrk(
    url: str, uuids: list[str], duration: int, connections: int, workdir: Path
) -> None:
    script = workdir / "ping.lua"
    script.write_text(WRK_SCRIPT % ", ".join(json.dumps(u) for u in uuids))
    output = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if errors:
        raise SystemExit(f"wrk saw {errors.group(1)} failed pings:\n{output}")


async def drive_with_asyncio(url: str, uuids: list[str], duration: int, connections: int) -> None:
    stop_at = time.monotonic() + duration
    limits = httpx.Limits(max_connections=connections)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:

        async def worker(offset: int) -> None:
            i = offset
            while time.monotonic() < stop_at:
                response = await client.post(f"/ping/{uuids[i % len(uuids)]}", content=b"ok")
                response.raise_for_status()
                i += connections

        await asyncio.gather(*(worker(i) for i in range(connections)))


def measure(
    kind: str, batch_max: int, duration: int, connections: int, n_checks: int, workers: int
) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        database_url, schema = fresh_database(kind, workdir)
        try:
            key = create_key(database_url)
            server = ServerProcess(
                database_url,
                workdir / "server.log",
                JOBPULSE_WRITER_BATCH_MAX=str(batch_max),
                JOBPULSE_WORKERS=str(workers),
                JOBPULSE_LOG_LEVEL="warning",
            )
            server.start()
            try:
                headers = {"Authorization": f"Bearer {key}"}
                with httpx.Client(base_url=server.url, headers=headers) as client:
                    uuids = [
                        client.post("/api/v1/checks", json={"name": f"bench-{i}"}).json()["uuid"]
                        for i in range(n_checks)
                    ]
                started = time.monotonic()
                if shutil.which("wrk"):
                    drive_with_wrk(server.url, uuids, duration, connections, workdir)
                else:
                    asyncio.run(drive_with_asyncio(server.url, uuids, duration, connections))
                elapsed = time.monotonic() - started
            finally:
                server.kill()
            engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))
            with engine.connect() as conn:
                stored = conn.execute(select(func.count()).select_from(pings)).scalar_one()
            engine.dispose()
            return stored / elapsed
        finally:
            drop_schema(schema)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--checks", type=int, default=100)
    parser.add_argument("--workers", type=int, default=1, help="jobpulse serve --workers")
    args = parser.parse_args()
    shape = (args.duration, args.connections, args.checks, args.workers)
    grouped = measure(args.database, 2000, *shape)
    single = measure(args.database, 1, *shape)
    print(
        f"database={args.database} connections={args.connections} checks={args.checks} "
        f"workers={args.workers}"
    )
    print(f"group commit:    {grouped:8.0f} durable pings/s")
    print(f"commit per ping: {single:8.0f} durable pings/s")


if __name__ == "__main__":
    main()
