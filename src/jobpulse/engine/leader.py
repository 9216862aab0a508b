"""Leadership among nodes: a PostgreSQL session advisory lock held on a dedicated connection.

The lock lives as long as the connection: when the leader's process dies, its server session
ends and the lock is free at once; another node's next try (every `leader_retry_seconds`)
takes it. On SQLite there is one node, but it may run several processes
(`jobpulse serve --workers N`): there the lock is an exclusive `flock` on a file beside the
database, which the kernel also frees when its process dies.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from jobpulse.store.db import sqlite_file as sqlite_file_of

log = logging.getLogger(__name__)


def lock_key(engine: Engine, role: str = "alerts") -> int:
    """A signed 64-bit key per role and per schema (search_path), so separate jobpulse
    installations sharing one database each have their own leader."""
    options = engine.url.query.get("options", "")
    digest = hashlib.sha256(f"jobpulse:{role}:{options}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class FileLeaderLock:
    """Leadership among the processes sharing one SQLite file."""

    def __init__(self, database: str, role: str) -> None:
        self.path = f"{database}.{role}.lock"
        self._fd: int | None = None

    def holds(self) -> bool:
        if self._fd is not None:
            return True
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self._fd = fd
        log.info("this process now leads %s", os.path.basename(self.path))
        return True

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the lock
            self._fd = None


class LeaderLock:
    def __init__(self, engine: Engine, role: str = "alerts") -> None:
        self._engine = engine
        self._key = lock_key(engine, role)
        self._connection: Any = None
        sqlite_file = sqlite_file_of(engine)
        self._file_lock = FileLeaderLock(sqlite_file, role) if sqlite_file else None

    @property
    def single_node(self) -> bool:
        return self._engine.dialect.name != "postgresql"

    def holds(self) -> bool:
        """Whether this node leads now; tries to become leader when it does not."""
        if self._file_lock is not None:
            return self._file_lock.holds()
        if self.single_node:
            return True
        if self._connection is not None:
            if self._alive():
                return True
            self.release()
        return self._try_acquire()

    def _connect(self) -> Any:
        import psycopg

        url = make_url(str(self._engine.url.render_as_string(hide_password=False)))
        url = url.set(drivername="postgresql")
        # Keepalives make a vanished peer (not only a dead process) end the session too.
        return psycopg.connect(
            url.render_as_string(hide_password=False),
            autocommit=True,
            keepalives=1,
            keepalives_idle=5,
            keepalives_interval=2,
            keepalives_count=2,
            connect_timeout=5,
        )

    def _try_acquire(self) -> bool:
        try:
            connection = self._connect()
            row = connection.execute("SELECT pg_try_advisory_lock(%s)", (self._key,)).fetchone()
        except Exception:
            log.warning("cannot reach the database to take leadership", exc_info=True)
            return False
        if row and row[0]:
            self._connection = connection
            log.info("this node now leads the alert loop")
            return True
        connection.close()
        return False

    def _alive(self) -> bool:
        try:
            self._connection.execute("SELECT 1").fetchone()
            return True
        except Exception:
            log.warning("lost the leadership connection", exc_info=True)
            return False

    def release(self) -> None:
        if self._file_lock is not None:
            self._file_lock.release()
        if self._connection is not None:
            try:
                self._connection.close()
            except Exception:
                log.debug("closing the leadership connection failed", exc_info=True)
            self._connection = None
