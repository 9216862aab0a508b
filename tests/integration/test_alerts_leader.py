"""Leadership: one holder at a time, free when its holder ends. A PostgreSQL advisory lock
between nodes; a file lock between the processes sharing one SQLite file (--workers N)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import create_engine

from jobpulse.engine.leader import LeaderLock
from jobpulse.store.db import make_engine


def test_one_lock_holder_at_a_time_and_the_next_takes_over_on_release(database_url: str) -> None:
    engine = make_engine(database_url)
    first, second, probes = LeaderLock(engine), LeaderLock(engine), LeaderLock(engine, "probes")
    try:
        assert first.holds() and first.holds()
        assert not second.holds()
        assert probes.holds()  # another role, another lock
        first.release()
        assert second.holds() and not first.holds()
    finally:
        for lock in (first, second, probes):
            lock.release()
        engine.dispose()


def test_an_in_memory_sqlite_node_always_leads() -> None:
    engine = create_engine("sqlite://")
    assert LeaderLock(engine).holds() and LeaderLock(engine).holds()
    engine.dispose()


def test_a_killed_sqlite_process_leaves_the_lead_to_another(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/shared.db"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from jobpulse.engine.leader import LeaderLock\n"
            "from jobpulse.store.db import make_engine\n"
            f"assert LeaderLock(make_engine({url!r})).holds()\n"
            "print('leading', flush=True)\n"
            "time.sleep(60)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    engine = make_engine(url)
    lock = LeaderLock(engine)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "leading"
        assert not lock.holds()
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
        deadline = time.monotonic() + 5
        while not lock.holds():
            assert time.monotonic() < deadline, "the lock of a killed process was never freed"
            time.sleep(0.05)
    finally:
        holder.kill()
        lock.release()
        engine.dispose()
