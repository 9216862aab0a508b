"""SQLite WAL checkpoints in a background thread, outside the writers' turn.

In WAL mode a commit appends the changed pages to `jobpulse.db-wal`; a checkpoint copies
them back into the database file. SQLite's default does it inside the commit that takes the
WAL past 1,000 pages, so on a big task log (every batch of runs dirties thousands of index
pages) each group commit also paid for copying and syncing its pages a second time, while
holding the write lock: about a sixth of the writer's time at 10 M runs. Here the writer's
connection never checkpoints; this thread does, on its own connection, and SQLite lets a
PASSIVE checkpoint run while writers append. Waiting between checkpoints also writes a page
changed by several batches once.

A PASSIVE checkpoint never finishes while writers keep appending, and SQLite starts the WAL
over only once one has. So when the WAL has grown past `restart_frames`, the last stretch is
copied in a writers' turn (everything older was copied outside it, so the turn is short),
and the next commit starts the WAL from its beginning. The WAL stays bounded under any load.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from dataclasses import dataclass

from jobpulse.store.writer_gate import WriteGate

log = logging.getLogger(__name__)


@dataclass
class CheckpointStats:
    checkpoints: int = 0
    in_turn: int = 0  # checkpoints finished in a writers' turn so the WAL could start over
    wal_frames: int = 0  # frames in the WAL after the last checkpoint
    copied_frames: int = 0  # of which already in the database file
    failures: int = 0


class WalCheckpointer:
    """Checkpoints `database` at most every `interval` seconds after `written()` is called."""

    def __init__(
        self, database: str, *, interval: float = 1.0, restart_frames: int = 65_536
    ) -> None:
        self._database = database
        self._interval = interval
        self._restart_frames = restart_frames
        # A gate of its own: flock is per open file, so sharing the writer's descriptor
        # would let this thread into a turn the writer thread holds.
        self._gate = WriteGate(database)
        self._written = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.stats = CheckpointStats()

    def start(self) -> None:
        if self._thread is None:
            self._gate.open()
            self._stopping.clear()
            self._thread = threading.Thread(
                target=self._run, name="jobpulse-checkpoint", daemon=True
            )
            self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stops after the checkpoint in progress; the last connection to close (SQLite's
        own rule) copies what is left."""
        if self._thread is None:
            return
        self._stopping.set()
        self._written.set()
        self._thread.join(timeout)
        if not self._thread.is_alive():
            self._thread = None
            self._gate.close()

    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def written(self) -> None:
        """A commit added to the WAL (called by the writer after each one)."""
        self._written.set()

    def _run(self) -> None:
        conn: sqlite3.Connection | None = None
        try:
            while not self._stopping.is_set():
                self._written.wait()
                if self._stopping.is_set():
                    return
                self._written.clear()
                conn = self._checkpoint(conn)
                # Commits coming in meanwhile share the next checkpoint.
                self._stopping.wait(self._interval)
        finally:
            if conn is not None:
                conn.close()

    def _checkpoint(self, conn: sqlite3.Connection | None) -> sqlite3.Connection | None:
        """One PASSIVE checkpoint, finished in a writers' turn if the WAL is long. Returns
        the connection to use next time; a failure is logged and retried after the next
        commit on a new connection (this thread must outlive any one failure)."""
        try:
            if conn is None:
                conn = sqlite3.connect(
                    self._database, isolation_level=None, check_same_thread=False
                )
            frames = self._passive(conn)
            if frames is not None and frames >= self._restart_frames:
                with self._gate.turn():
                    self._passive(conn)
                self.stats.in_turn += 1
            return conn
        except Exception:
            self.stats.failures += 1
            log.warning("WAL checkpoint failed; retrying after the next commit", exc_info=True)
            if conn is not None:
                conn.close()
            return None

    def _passive(self, conn: sqlite3.Connection) -> int | None:
        """Frames in the WAL, or None when another process's checkpoint was running."""
        busy, frames, copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        if busy or frames < 0:
            return None
        self.stats.checkpoints += 1
        self.stats.wal_frames, self.stats.copied_frames = frames, copied
        return int(frames)
