"""SQLite WAL checkpoints in the background (store/checkpoint.py), on a real database file."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, text

from jobpulse.store.checkpoint import WalCheckpointer
from jobpulse.store.writer import GroupCommitWriter
from jobpulse.store.writer_gate import WriteGate
from tests.integration.queue_fixtures import wait_until

PAGE = 4096


def wal_database(path: Path) -> sqlite3.Connection:
    """A database in WAL mode whose connection never checkpoints, with a `blobs` table: a
    writer as GroupCommitWriter sets one up, without the writer around it."""
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA wal_autocheckpoint=0")
    db.execute("CREATE TABLE blobs (body BLOB)")
    return db


class Blobs:
    """Stores each argument as a blob of that many pages."""

    def __call__(self, conn: Connection, arguments: Sequence[Any]) -> list[Any]:
        conn.execute(text("CREATE TABLE IF NOT EXISTS blobs (body BLOB)"))
        conn.execute(
            text("INSERT INTO blobs VALUES (randomblob(:size))"),
            [{"size": pages * PAGE} for pages in arguments],
        )
        return list(arguments)


def wal_frames(checkpointer: WalCheckpointer) -> tuple[int, int]:
    return checkpointer.stats.wal_frames, checkpointer.stats.copied_frames


def test_the_writer_leaves_checkpoints_to_the_background_thread(
    sqlite_writer: GroupCommitWriter, sqlite_database: Path
) -> None:
    sqlite_writer.run_sync(Blobs(), 50)
    kept = sqlite_writer._conn
    assert kept is not None and kept.connection.dbapi_connection is not None
    setting = kept.connection.dbapi_connection.execute("PRAGMA wal_autocheckpoint")
    assert setting.fetchone() == (0,)
    checkpointer = sqlite_writer._checkpointer
    assert checkpointer is not None
    wait_until(lambda: checkpointer.stats.checkpoints >= 1, 10, "a checkpoint")
    frames, copied = wal_frames(checkpointer)
    assert frames >= 50 and copied == frames  # every committed page is in the database file


def test_a_checkpoint_does_not_wait_for_the_writers_turn(sqlite_database: Path) -> None:
    """Copying pages back runs beside the writers; only a long WAL's last stretch waits."""
    db = wal_database(sqlite_database)
    db.execute(f"INSERT INTO blobs VALUES (randomblob({20 * PAGE}))")
    checkpointer = WalCheckpointer(str(sqlite_database), interval=0.01)
    checkpointer.start()
    other_process = WriteGate(str(sqlite_database))
    other_process.open()
    try:
        with other_process.turn():  # a writer's turn that lasts the whole test
            checkpointer.written()
            wait_until(lambda: checkpointer.stats.checkpoints >= 1, 10, "a checkpoint")
            frames, copied = wal_frames(checkpointer)
            assert frames >= 20 and copied == frames
            assert checkpointer.stats.in_turn == 0
    finally:
        checkpointer.stop()
        other_process.close()
        db.close()


def test_the_wal_stays_short_while_writers_never_pause(sqlite_database: Path) -> None:
    """A PASSIVE checkpoint cannot finish while commits keep coming, and SQLite only starts
    the WAL over after one has: the checkpointer finishes it in a writers' turn."""
    db = wal_database(sqlite_database)
    checkpointer = WalCheckpointer(str(sqlite_database), interval=0.005, restart_frames=100)
    checkpointer.start()
    gate = WriteGate(str(sqlite_database))
    gate.open()
    wal = Path(f"{sqlite_database}-wal")
    largest = 0
    try:
        for _ in range(1000):  # 10,000 pages, back to back, each commit in a writer's turn
            with gate.turn():
                db.execute("BEGIN IMMEDIATE")
                db.execute(f"INSERT INTO blobs VALUES (randomblob({10 * PAGE}))")
                db.execute("COMMIT")
            checkpointer.written()
            largest = max(largest, wal.stat().st_size)
    finally:
        checkpointer.stop()
        gate.close()
    assert checkpointer.stats.in_turn >= 1
    # Without starting over the WAL would hold all 10,000 pages (40 MB); with a gate that let
    # the writer take its turn again before the checkpointer, it reached 1,400-7,300.
    assert largest < 1000 * PAGE, f"the WAL grew to {largest:,} bytes"
    assert db.execute("SELECT count(*) FROM blobs").fetchone() == (1000,)
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    db.close()


def test_writes_from_several_threads_all_land_and_the_file_is_sound(
    sqlite_writer: GroupCommitWriter, sqlite_database: Path
) -> None:
    def write(count: int) -> None:
        for _ in range(count):
            sqlite_writer.run_sync(Blobs(), 3)

    threads = [threading.Thread(target=write, args=(50,)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sqlite_writer.stop()
    db = sqlite3.connect(sqlite_database)
    assert db.execute("SELECT count(*) FROM blobs").fetchone() == (200,)
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    db.close()
