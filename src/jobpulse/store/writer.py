"""The group-commit writer: one thread, many requests, one transaction per batch.

Every write in a process goes through here. A caller submits a job and awaits its result;
the result is only delivered after the transaction holding the job has committed, so an
HTTP 2xx always means "on disk". Jobs that arrive while a commit is in flight form the
next batch, so the batch size grows with the load and the fsync cost is shared.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import random
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine

from jobpulse.store.checkpoint import WalCheckpointer
from jobpulse.store.db import is_sqlite, sqlite_file
from jobpulse.store.writer_gate import WriteGate

log = logging.getLogger(__name__)

T = TypeVar("T")
A = TypeVar("A")

# A batch handler turns many arguments into as many results inside one open transaction.
# It may also have a `prepare(argument)` method: the writer thread runs it on each argument
# before taking its turn at the database (see _prepare); and a `prepare_together(arguments)`
# method, run on all the arguments it will get in the coming transaction, in that order.
BatchHandler = Callable[[Connection, Sequence[Any]], Sequence[Any]]

# PostgreSQL errors that writers of several nodes cause each other, gone on a new attempt:
# two inserts of the same new key (unique or exclusion violation: both saw the job as new),
# rows locked in opposite orders (deadlock), serialization failures.
_CONFLICT_STATES = frozenset({"23505", "23P01", "40P01", "40001"})
CONFLICT_ATTEMPTS = 4


def _is_conflict(exc: BaseException) -> bool:
    """Wrapped by SQLAlchemy (`orig`), or the driver's own (from COPY, on its cursor)."""
    driver_error = getattr(exc, "orig", exc)
    return getattr(driver_error, "sqlstate", None) in _CONFLICT_STATES


# SQLite page cache of the writer's connection (KiB; filled only as far as pages are used).
WRITER_CACHE_KIB = 256 * 1024


@dataclass
class _Job:
    """One write. Sync callers wait on `future`; async callers on `waiter` in `loop`."""

    handler: BatchHandler
    argument: Any
    future: Future[Any] | None = None
    waiter: asyncio.Future[Any] | None = None
    loop: asyncio.AbstractEventLoop | None = None


def _resolve(outcomes: list[tuple[asyncio.Future[Any], Any, BaseException | None]]) -> None:
    for waiter, result, error in outcomes:
        if waiter.cancelled():
            continue
        if error is not None:
            waiter.set_exception(error)
        else:
            waiter.set_result(result)


def _by_handler(jobs: list[_Job]) -> dict[int, list[int]]:
    """Positions of the jobs per handler: handlers in the order of their first job, each
    one's jobs in arrival order (how a transaction calls them, see _execute)."""
    found: dict[int, list[int]] = {}
    for index, job in enumerate(jobs):
        found.setdefault(id(job.handler), []).append(index)
    return found


def _settle(outcomes: list[tuple[_Job, Any, BaseException | None]]) -> None:
    """Hand results back: one wake-up per event loop for the whole batch, not one per job."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], Any, Any]]] = {}
    for job, result, error in outcomes:
        if job.future is not None:
            if error is not None:
                job.future.set_exception(error)
            else:
                job.future.set_result(result)
        elif job.waiter is not None and job.loop is not None:
            by_loop.setdefault(job.loop, []).append((job.waiter, result, error))
    for loop, items in by_loop.items():
        try:
            loop.call_soon_threadsafe(_resolve, items)
        except RuntimeError:  # the loop is closed: nobody is waiting any more
            log.debug("event loop closed before %d results could be delivered", len(items))


class WriterClosed(RuntimeError):
    pass


@dataclass
class WriterStats:
    batches: int = 0
    jobs: int = 0
    last_batch_size: int = 0
    last_commit_seconds: float = 0.0


class GroupCommitWriter:
    def __init__(self, engine: Engine, batch_max: int = 2000) -> None:
        self._engine = engine
        self._batch_max = batch_max
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._closed = False
        database = sqlite_file(engine)
        self._gate = WriteGate(database)
        self._checkpointer = WalCheckpointer(database) if database else None
        self._conn: Connection | None = None  # the writer thread's own, kept between batches
        self.stats = WriterStats()
        # Called after every batch with (size, seconds, failed): metrics subscribe here.
        self.observers: list[Callable[[int, float, bool], None]] = []

    def start(self) -> None:
        self._gate.open()
        if self._checkpointer is not None:
            self._checkpointer.start()
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="jobpulse-writer", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Finish every job already submitted, then stop."""
        self._closed = True
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout)
            if self._thread.is_alive():
                return  # still committing: its gate stays open until the process ends
            self._thread = None
        self._gate.close()
        if self._checkpointer is not None:
            self._checkpointer.stop()

    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def checkpoints_alive(self) -> bool:
        """On SQLite, the thread that checkpoints the WAL runs (without it the WAL file
        would grow without end); always true on PostgreSQL."""
        return self._checkpointer is None or self._checkpointer.alive()

    def submit(self, handler: BatchHandler, argument: Any) -> Future[Any]:
        job = _Job(handler, argument, future=Future())
        self._enqueue(job)
        assert job.future is not None
        return job.future

    async def run(self, handler: BatchHandler, argument: Any) -> Any:
        """Submit and wait for the commit; returns the handler's result for `argument`."""
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[Any] = loop.create_future()
        self._enqueue(_Job(handler, argument, waiter=waiter, loop=loop))
        return await waiter

    def _enqueue(self, job: _Job) -> None:
        if self._closed:
            raise WriterClosed("the writer is stopped")
        self._queue.put(job)

    def run_sync(self, handler: BatchHandler, argument: Any, timeout: float = 60.0) -> Any:
        return self.submit(handler, argument).result(timeout)

    def _take_batch(self) -> tuple[list[_Job], bool]:
        first = self._queue.get()
        if first is None:
            return [], True
        batch = [first]
        stopping = False
        while len(batch) < self._batch_max:
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                break
            if job is None:
                stopping = True
                break
            batch.append(job)
        return batch, stopping

    def _run(self) -> None:
        try:
            while True:
                batch, stopping = self._take_batch()
                batch = self._prepare(batch)
                if batch:
                    self._commit(batch)
                if stopping:
                    return
        finally:
            self._close_connection()

    @staticmethod
    def _prepare(batch: list[_Job]) -> list[_Job]:
        """Run the handlers' `prepare` steps before the turn, so the time spent holding the
        database (and, on SQLite, the other processes' turns) is spent on the database.
        Under `serve --workers N` this also keeps this process's own request handling from
        taking the interpreter from the writer while it holds the lock. A job whose
        preparation fails gets that error back and is left out."""
        ready: list[_Job] = []
        failed: list[tuple[_Job, Any, BaseException | None]] = []
        for job in batch:
            prepare = getattr(job.handler, "prepare", None)
            if prepare is not None:
                try:
                    job.argument = prepare(job.argument)
                except Exception as exc:
                    failed.append((job, None, exc))
                    continue
            ready.append(job)
        if failed:
            _settle(failed)
        for indexes in _by_handler(ready).values():
            together = getattr(ready[indexes[0]].handler, "prepare_together", None)
            if together is not None:
                try:
                    together([ready[index].argument for index in indexes])
                except Exception:  # the handler can still do it in its turn
                    log.exception("preparing a transaction's jobs together failed")
        return ready

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[Connection]:
        """A transaction on the writer's own connection, in this process's turn.

        The connection is kept between batches (with the page cache set up in _connect:
        while no other process writes in between, the pages a batch touched are still there
        for the next one). A failed transaction discards it; the next batch opens another.
        """
        with self._gate.turn():
            conn = self._conn or self._connect()
            self._conn = None
            try:
                with conn.begin():
                    yield conn
            except BaseException:
                conn.invalidate()
                conn.close()
                raise
            self._conn = conn
        if self._checkpointer is not None:
            self._checkpointer.written()

    def _connect(self) -> Connection:
        conn = self._engine.connect()
        if is_sqlite(self._engine):
            dbapi = conn.connection.dbapi_connection
            assert dbapi is not None
            # A batch of thousands of runs touches thousands of pages (an insertion point in
            # every index and, for random job ids, about one leaf of the job id index per
            # run: 16,000 pages for 10,500 runs at 10 M runs), far more than SQLite's
            # default cache of 2 MB holds until the commit.
            dbapi.execute(f"PRAGMA cache_size=-{WRITER_CACHE_KIB}")
            if self._checkpointer is not None:  # it checkpoints, outside the turn
                dbapi.execute("PRAGMA wal_autocheckpoint=0")
            conn = conn.execution_options(sqlite_immediate=True)
        return conn

    def _close_connection(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _commit(self, batch: list[_Job]) -> None:
        started = time.perf_counter()
        try:
            results = self._committed(batch)
        except Exception:
            log.warning(
                "batch of %d failed; retrying its jobs one by one", len(batch), exc_info=True
            )
            self._notify(len(batch), time.perf_counter() - started, failed=True)
            self._commit_one_by_one(batch)
            return
        self.stats.batches += 1
        self.stats.jobs += len(batch)
        self.stats.last_batch_size = len(batch)
        self.stats.last_commit_seconds = time.perf_counter() - started
        self._notify(len(batch), self.stats.last_commit_seconds, failed=False)
        _settle([(job, result, None) for job, result in zip(batch, results, strict=True)])

    def _notify(self, size: int, seconds: float, *, failed: bool) -> None:
        for observer in self.observers:
            try:
                observer(size, seconds, failed)
            except Exception:  # an observer must never break the write path
                log.exception("writer observer failed")

    def _commit_one_by_one(self, batch: list[_Job]) -> None:
        outcomes: list[tuple[_Job, Any, BaseException | None]] = []
        for job in batch:
            try:
                (result,) = self._committed([job])
            except Exception as exc:  # the job's own failure goes back to its caller
                outcomes.append((job, None, exc))
            else:
                outcomes.append((job, result, None))
        _settle(outcomes)

    def _committed(self, batch: list[_Job]) -> list[Any]:
        """The batch's results once its transaction has committed. A conflict with another
        node's writer (see _is_conflict) is tried again: it has committed or rolled back by
        the time the conflict is reported, so a new transaction sees what it stored."""
        for attempt in range(1, CONFLICT_ATTEMPTS + 1):
            try:
                with self._transaction() as conn:
                    return self._execute(conn, batch)
            except Exception as exc:
                if attempt == CONFLICT_ATTEMPTS or not _is_conflict(exc):
                    raise
                log.info("batch of %d met another writer (%s); trying again", len(batch), exc)
                # Apart, so that the two writers do not meet again at once.
                time.sleep(random.uniform(0, 0.01 * attempt))
        raise AssertionError("unreachable")

    @staticmethod
    def _execute(conn: Connection, batch: list[_Job]) -> list[Any]:
        """Run all jobs of a handler as one call: handlers in the order of their first job,
        each one's jobs in arrival order.

        Once per handler and transaction: handlers that lock rows in key order (the task
        rollups on PostgreSQL) would otherwise lock a second round of keys in the same
        transaction when another handler's job came in between, and two nodes deadlocked.
        """
        results: list[Any] = [None] * len(batch)
        for indexes in _by_handler(batch).values():
            handler = batch[indexes[0]].handler
            produced = handler(conn, [batch[index].argument for index in indexes])
            if len(produced) != len(indexes):
                raise RuntimeError(
                    f"{handler!r} returned {len(produced)} results for {len(indexes)}"
                )
            for index, result in zip(indexes, produced, strict=True):
                results[index] = result
        return results
