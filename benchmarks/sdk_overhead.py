"""SDK overhead on the watched job's thread.

1. Cost per recorded task event (`client.record`, what every integration calls): the job's
   thread only appends to the transport's deque; a background thread posts batches to a
   loopback HTTP receiver while we measure. Goal: < 20 µs per event.
2. A Celery task that does nothing, with and without the integration, in the same run
   (eager mode: `task.apply()` runs prerun/success/postrun signals in-process, no broker).

    .venv/bin/python benchmarks/sdk_overhead.py [--events 200000] [--tasks 20000]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from jobpulse.sdk.client import Client
from jobpulse.sdk.recorder import TaskRecorder


class _Accept(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(202)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def _receiver() -> tuple[ThreadingHTTPServer, str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Accept)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def per_event_cost(client: Client, events: int, rounds: int = 5) -> float:
    """Median µs per `record()` call over several rounds."""
    samples = []
    for round_number in range(rounds):
        started = time.perf_counter()
        for number in range(events):
            client.record(
                "started",
                f"job-{round_number}-{number}",
                "bench.task",
                "default",
                attempt=1,
                worker_id="bench@host",
            )
        samples.append((time.perf_counter() - started) / events * 1e6)
        client.flush(30)
    return statistics.median(samples)


def per_lifecycle_cost(client: Client, runs: int) -> float:
    """µs for started + succeeded through the recorder (contextvar in and out, args copied)."""
    recorder = TaskRecorder(client)
    started = time.perf_counter()
    for number in range(runs):
        job_id = f"life-{number}"
        recorder.started(job_id, "bench.task", "default", attempt=1, args=[1, 2], kwargs={})
        recorder.finished("succeeded", job_id, "bench.task", "default", attempt=1, result=3)
    elapsed = (time.perf_counter() - started) / runs * 1e6
    client.flush(30)
    return elapsed


def celery_overhead(client: Client, tasks: int, rounds: int = 5) -> tuple[float, float, float]:
    """µs per eager no-op task: without the integration, with empty receivers on the same
    signals (Celery's own dispatch cost), and with the integration. Medians of interleaved
    rounds, so that load from other processes hits all alike."""
    from celery import Celery, signals

    from jobpulse.sdk.integrations.celery import CeleryIntegration

    app = Celery("bench", broker="memory://")
    app.conf.task_always_eager = True

    @app.task(name="bench.noop")
    def noop() -> None:
        return None

    def timed() -> float:
        started = time.perf_counter()
        for _ in range(tasks):
            noop.apply()
        return (time.perf_counter() - started) / tasks * 1e6

    for _ in range(200):
        noop.apply()
    without, empty, with_integration = [], [], []
    integration = CeleryIntegration()
    used = (signals.task_prerun, signals.task_success, signals.task_postrun)

    def ignore(**_: object) -> None:
        return None

    for _ in range(rounds):
        without.append(timed())
        for signal in used:
            signal.connect(ignore, weak=False, dispatch_uid=f"bench-{signal.name}")
        empty.append(timed())
        for signal in used:
            signal.disconnect(dispatch_uid=f"bench-{signal.name}")
        integration.setup(client)
        try:
            with_integration.append(timed())
        finally:
            integration.teardown()
        client.flush(30)
    return statistics.median(without), statistics.median(empty), statistics.median(with_integration)


def _client(url: str, spool: str, *, sender_live: bool) -> Client:
    if sender_live:
        return Client(url, "bench-key", spool_dir=spool, max_queue=10_000_000)
    # The sender sleeps through the measurement: what is left is the job thread's own cost.
    return Client(
        url,
        "bench-key",
        spool_dir=spool,
        max_queue=10_000_000,
        batch_size=10**9,
        flush_interval=3600,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--tasks", type=int, default=5_000)
    options = parser.parse_args()
    server, url = _receiver()
    with tempfile.TemporaryDirectory() as spool:
        for live in (False, True):
            client = _client(url, spool, sender_live=live)
            event_cost = per_event_cost(client, options.events)
            lifecycle_cost = per_lifecycle_cost(client, options.events // 4)
            without, empty, with_integration = celery_overhead(client, options.tasks)
            client.close(30)
            label = "sender thread posting meanwhile" if live else "sender idle"
            print(f"[{label}]")
            print(f"  record(): {event_cost:.2f} µs per event on the job's thread (goal < 20 µs)")
            print(f"  started+succeeded via TaskRecorder: {lifecycle_cost:.2f} µs per run")
            print(
                f"  celery no-op task (eager): {without:.1f} µs without, "
                f"{empty:.1f} µs with empty receivers on the same signals, "
                f"{with_integration:.1f} µs with the integration "
                f"(+{with_integration - without:.1f} µs, of which "
                f"{empty - without:.1f} µs is Celery's own signal dispatch)"
            )
            print(
                f"  events sent: {client.transport.sent_events}, "
                f"dropped: {client.transport.dropped_events}"
            )
    server.shutdown()


if __name__ == "__main__":
    main()
