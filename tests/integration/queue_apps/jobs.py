"""Job bodies shared by the apps: one that returns at once, one that blocks."""

from __future__ import annotations

import os
import time


def noop() -> str:
    return "ok"


def block(seconds: float = 60.0) -> None:
    """Hold the worker, as a job stuck on a lock or a dead socket would."""
    marker = os.environ.get("JOBPULSE_TEST_BLOCK_MARKER")
    if marker:
        with open(marker, "w") as handle:
            handle.write("started")
    time.sleep(seconds)
