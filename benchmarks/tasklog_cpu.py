"""Task log ingest: CPU per event of each step before the database, in one process.

Decoding and validating a request body (`decode_events`), converting its events (UTC,
redaction, caps: `to_event`) and folding each job's events into driver rows and rollup
changes (`EventBatch.prepare`), on the same request bodies as the HTTP benchmark. Each
figure is the best of `--repeat` passes (the machine is shared), in microseconds per event.

    python benchmarks/tasklog_cpu.py --runs 10000
    # the same figures for another checkout's code (before/after in one sitting)
    PYTHONPATH=/path/to/other/checkout/src python benchmarks/tasklog_cpu.py
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import orjson

from benchmarks.tasklog import run_events
from jobpulse.domain.redact import Redactor
from jobpulse.store.tasks_prepare import EventBatch

try:
    from jobpulse.api.events import decode_events
except ImportError:  # code before 2026-12-06 validated with pydantic: for before/after figures
    from jobpulse.api.events import _EVENTS  # type: ignore[attr-defined]

    decode_events = _EVENTS.validate_json


def bodies(runs: int, batch: int = 2000) -> list[bytes]:
    """Request bodies of about `batch` events, whole runs of the last hour."""
    rng = random.Random(1)
    now = datetime.now(UTC)
    found, pending = [], []
    for index in range(runs):
        pending += run_events(rng, index, now - timedelta(seconds=3600 * (1 - index / runs)))
        if len(pending) >= batch:
            found.append(orjson.dumps(pending))
            pending = []
    return [*found, orjson.dumps(pending)] if pending else found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000, help="task runs to generate")
    parser.add_argument("--repeat", type=int, default=7, help="passes; the best one counts")
    args = parser.parse_args()
    requests = bodies(args.runs)
    redactor = Redactor()
    events = sum(len(decode_events(body)) for body in requests)
    best = {"decode": float("inf"), "convert": float("inf"), "prepare": float("inf")}
    for _ in range(args.repeat):
        spent = dict.fromkeys(best, 0.0)
        for body in requests:  # one request at a time, as a server process takes them
            started = time.perf_counter()
            decoded = decode_events(body)
            decoded_at = time.perf_counter()
            converted = [item.to_event(redactor) for item in decoded]
            converted_at = time.perf_counter()
            EventBatch(1, converted).prepare()
            spent["decode"] += decoded_at - started
            spent["convert"] += converted_at - decoded_at
            spent["prepare"] += time.perf_counter() - converted_at
        best = {step: min(best[step], spent[step]) for step in best}
    print(f"{args.runs:,} runs, {events:,} events, best of {args.repeat} passes")
    for step, seconds in best.items():
        print(f"{step:<8} {seconds / events * 1e6:6.2f} us/event")
    print(f"{'total':<8} {sum(best.values()) / events * 1e6:6.2f} us/event")


if __name__ == "__main__":
    main()
