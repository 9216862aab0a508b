"""`jobpulse run --check SLUG_OR_UUID -- CMD…`: wrap a cron job in start/finish pings.

CMD's output streams through to the terminal unchanged; its last 10 kB go with the final ping.
The command's exit status is ours, whatever happens to the pings.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import uuid
from collections import deque
from typing import IO

import click

OUTPUT_TAIL_BYTES = 10_000
_CHUNK = 4096


class OutputTail:
    """The last `limit` bytes written by several streams, in arrival order."""

    def __init__(self, limit: int = OUTPUT_TAIL_BYTES) -> None:
        self.limit = limit
        self._chunks: deque[bytes] = deque()
        self._size = 0
        self._lock = threading.Lock()

    def add(self, chunk: bytes) -> None:
        with self._lock:
            self._chunks.append(chunk)
            self._size += len(chunk)
            while self._size - len(self._chunks[0]) >= self.limit:
                self._size -= len(self._chunks.popleft())

    def text(self) -> str:
        with self._lock:
            data = b"".join(self._chunks)
        return data[-self.limit :].decode("utf-8", errors="replace")


def _pump(source: IO[bytes], sink: IO[bytes], tail: OutputTail) -> None:
    while chunk := source.read1(_CHUNK) if hasattr(source, "read1") else source.read(_CHUNK):
        tail.add(chunk)
        try:
            sink.write(chunk)
            sink.flush()
        except (OSError, ValueError):
            pass


def run_command(command: list[str], tail: OutputTail) -> int:
    """Run `command`, copying stdout/stderr through; its exit status (128+N if killed by N)."""
    try:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except OSError as exc:
        message = f"jobpulse run: cannot run {command[0]!r}: {exc}\n".encode()
        tail.add(message)
        sys.stderr.buffer.write(message)
        return 127
    assert process.stdout is not None and process.stderr is not None
    pumps = [
        threading.Thread(target=_pump, args=(process.stdout, sys.stdout.buffer, tail)),
        threading.Thread(target=_pump, args=(process.stderr, sys.stderr.buffer, tail)),
    ]
    for pump in pumps:
        pump.start()
    previous = signal.signal(signal.SIGTERM, lambda *_: process.terminate())
    try:
        while True:
            try:
                status = process.wait()
                break
            except KeyboardInterrupt:
                continue  # the child got the same SIGINT; wait for it to finish
    finally:
        signal.signal(signal.SIGTERM, previous)
    for pump in pumps:
        pump.join()
    return status if status >= 0 else 128 - status


@click.command(
    "run", context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False}
)
@click.option("--check", "check", required=True, help="The check's slug or uuid.")
@click.option("--server", default=None, help="jobpulse URL (default: JOBPULSE_URL).")
@click.option("--ping-key", default=None, help="Project ping key for slugs (JOBPULSE_PING_KEY).")
@click.option("--create", is_flag=True, help="Create the check if the slug is unknown.")
@click.option("--timeout", default=5.0, show_default=True, help="Seconds per ping attempt.")
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
def run(
    check: str,
    server: str | None,
    ping_key: str | None,
    create: bool,
    timeout: float,
    command: tuple[str, ...],
) -> None:
    """Ping start, run COMMAND, ping its exit status with its output's tail, exit with it."""
    from jobpulse.sdk.client import Client

    client = Client(server, ping_key=ping_key, ping_timeout=timeout, ping_retries=2)
    rid = str(uuid.uuid4())
    client.ping(check, "start", rid=rid, create=create)
    tail = OutputTail()
    status = run_command(list(command), tail)
    client.ping(check, str(min(status, 255)), rid=rid, body=tail.text(), create=create)
    sys.exit(status)
