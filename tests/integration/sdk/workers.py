"""Start a library's real worker as a subprocess for a test, and stop it afterwards."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


@contextmanager
def running_worker(
    command: list[str], log_path: Path, **env: str
) -> Iterator[subprocess.Popen[bytes]]:
    """Run `command` (argv; `python` means this interpreter) with `env` added, from the repo."""
    argv = [sys.executable if part == "python" else part for part in command]
    environment = {**os.environ, "PYTHONPATH": str(ROOT), **env}
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            argv, cwd=ROOT, env=environment, stdout=log, stderr=log, start_new_session=True
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)


def worker_log(log_path: Path) -> str:
    return log_path.read_text(errors="replace")[-4000:] if log_path.exists() else ""


def celery_worker_command(queue: str) -> list[str]:
    """A prefork Celery worker (2 processes) of the test app, consuming `queue` only."""
    return [
        "python",
        "-m",
        "celery",
        "-A",
        "tests.integration.sdk.apps.celery_app",
        "worker",
        "-Q",
        queue,
        "-c",
        "2",
        "-P",
        "prefork",
        "--without-gossip",
        "--without-mingle",
        "-n",
        f"{queue}@localhost",
    ]
