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
    """

    def __init__(self, database: str | None) -> None:
        self._path = f"{database}.write.lock" if database else None
        self._fd: int | None = None

    def open(self) -> None:
        if self._path is not None and self._fd is None:
            self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)

    @contextlib.contextmanager
    def turn(self) -> Iterator[None]:
        if self._fd is None:
            yield
            return
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
