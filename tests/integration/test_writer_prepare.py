"""The group-commit writer's prepare step, on a real SQLite file and its write lock."""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, text

from jobpulse.store.db import make_engine
from jobpulse.store.writer import GroupCommitWriter, _Job


class Recording:
    """A handler with a prepare step that records where and when each step ran."""

    def __init__(self) -> None:
        self.prepared: list[tuple[Any, str]] = []
        self.handled: list[Any] = []
        self.calls = 0
        self.prepared_event = threading.Event()

    def prepare(self, argument: Any) -> Any:
        if argument == "bad":
            raise ValueError("cannot prepare 'bad'")
        self.prepared.append((argument, threading.current_thread().name))
        self.prepared_event.set()
        return f"prepared {argument}"

    def __call__(self, conn: Connection, arguments: Sequence[Any]) -> list[Any]:
        self.calls += 1
        self.handled.extend(arguments)
        conn.execute(text("CREATE TABLE IF NOT EXISTS seen (value TEXT)"))
        conn.execute(text("INSERT INTO seen VALUES (:v)"), [{"v": a} for a in arguments])
        return [len(a) for a in arguments]


@contextmanager
def another_process_writing(sqlite_database: Path) -> Iterator[None]:
    """Holds the writers' lock on the file, as another process's turn does."""
    lock = os.open(f"{sqlite_database}.write.lock", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield
    finally:
        os.close(lock)  # releases the lock


def test_the_handler_gets_prepared_arguments(sqlite_writer: GroupCommitWriter) -> None:
    handler = Recording()
    assert sqlite_writer.run_sync(handler, "a") == len("prepared a")
    assert handler.prepared == [("a", "jobpulse-writer")]
    assert handler.handled == ["prepared a"]


def test_preparing_does_not_wait_for_the_database(
    sqlite_writer: GroupCommitWriter, sqlite_database: Path
) -> None:
    """Another process's turn (its lock on the file) does not delay the preparation."""
    handler = Recording()
    with another_process_writing(sqlite_database):
        done = sqlite_writer.submit(handler, "a")
        assert handler.prepared_event.wait(10), "prepare waited for the lock"
        assert not done.done() and handler.handled == []
    assert done.result(10) == len("prepared a")


def test_a_failed_preparation_fails_only_its_own_job(
    sqlite_writer: GroupCommitWriter, sqlite_database: Path
) -> None:
    handler = Recording()
    with another_process_writing(sqlite_database):  # the jobs pile up into a batch meanwhile
        jobs = [sqlite_writer.submit(handler, argument) for argument in ("a", "bad", "c")]
    assert jobs[0].result(10) == jobs[2].result(10) == len("prepared a")
    with pytest.raises(ValueError, match="cannot prepare 'bad'"):
        jobs[1].result(10)
    assert sorted(handler.handled) == ["prepared a", "prepared c"]
    reader = make_engine(f"sqlite:///{sqlite_database}")
    with reader.connect() as conn:  # committed, not just handled
        assert conn.execute(text("SELECT COUNT(*) FROM seen")).scalar_one() == 2
    reader.dispose()


def test_a_handler_is_called_once_per_transaction_whatever_came_between(
    sqlite_database: Path,
) -> None:
    """Two calls in one transaction took two rounds of row locks, each in key order: two
    PostgreSQL nodes deadlocked on the task rollups (and retried every job one by one)."""
    ingest, other = Recording(), Recording()
    batch = [_Job(ingest, "a"), _Job(other, "bb"), _Job(ingest, "ccc"), _Job(other, "dddd")]
    engine = make_engine(f"sqlite:///{sqlite_database}")
    with engine.begin() as conn:
        results = GroupCommitWriter._execute(conn, batch)
    engine.dispose()
    assert results == [1, 2, 3, 4]  # each job's own result, in its place
    assert ingest.handled == ["a", "ccc"] and other.handled == ["bb", "dddd"]
    assert ingest.calls == other.calls == 1


class Together(Recording):
    """Also prepares all its arguments of a transaction at once, before the turn."""

    def __init__(self, fail: bool = False) -> None:
        super().__init__()
        self.together: list[tuple[list[Any], bool]] = []
        self.fail = fail

    def prepare_together(self, arguments: Sequence[Any]) -> None:
        self.together.append((list(arguments), self.calls > 0))
        if self.fail:
            raise RuntimeError("cannot prepare these together")


@pytest.mark.parametrize("fail", [False, True])
def test_a_handler_prepares_its_transaction_together_before_the_turn(
    sqlite_writer: GroupCommitWriter, sqlite_database: Path, fail: bool
) -> None:
    handler, other = Together(fail), Recording()
    with another_process_writing(sqlite_database):
        first = sqlite_writer.submit(other, "x")
        assert other.prepared_event.wait(10)  # the writer waits for its turn with "x"...
        jobs = [sqlite_writer.submit(handler, "a"), sqlite_writer.submit(other, "bb")]
        jobs.append(sqlite_writer.submit(handler, "ccc"))  # ...while these pile up
    assert first.result(10) == len("prepared x")
    assert [job.result(10) for job in jobs] == [len("prepared a"), 11, len("prepared ccc")]
    # Once, on what the handler then got in one call, in that order, before that call;
    # when it fails, the transaction goes on (the handler can do the work in its turn).
    assert handler.together == [(["prepared a", "prepared ccc"], False)]
    assert handler.handled == ["prepared a", "prepared ccc"] and handler.calls == 1
