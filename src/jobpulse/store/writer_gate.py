"""The turn SQLite writers of several processes take on one database file."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator


class WriteGate:
    """Takes turns with the writers of other processes on the same SQLite file.

    SQLite's own busy handler polls with sleeps of 1, 2, 5, 10… ms, so two processes' writers
    (`serve --workers N`) waste most of their time asleep. Holding an exclusive flock for
    the length of each transaction instead hands the turn over as soon as it is free.

    A freed flock goes to whoever asks first, and a writer that just left its turn asks again
    at once: writing back to back, it kept the turn from the WAL checkpointer for thousands
    of pages. So a writer first queues on a second lock, which it holds only while it waits
    for the turn: the one that just left waits behind the one already waiting.
    """

    def __init__(self, database: str | None) -> None:
        self._paths = (f"{database}.write.queue", f"{database}.write.lock") if database else ()
        self._queue: int | None = None
        self._turn: int | None = None

    def open(self) -> None:
        if self._paths and self._turn is None:
            self._queue, self._turn = (
                os.open(path, os.O_RDWR | os.O_CREAT, 0o600) for path in self._paths
            )

    @contextlib.contextmanager
    def turn(self) -> Iterator[None]:
        if self._queue is None or self._turn is None:
            yield
            return
        fcntl.flock(self._queue, fcntl.LOCK_EX)
        try:
            fcntl.flock(self._turn, fcntl.LOCK_EX)
        finally:
            fcntl.flock(self._queue, fcntl.LOCK_UN)
        try:
            yield
        finally:
            fcntl.flock(self._turn, fcntl.LOCK_UN)

    def close(self) -> None:
        for fd in (self._queue, self._turn):
            if fd is not None:
                os.close(fd)
        self._queue = self._turn = None
