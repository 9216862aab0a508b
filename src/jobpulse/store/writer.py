"""The group-commit writer: one thread, many requests, one transaction per batch.

Every write in a process goes through here. A caller submits a job and awaits its result;
the result is only delivered after the transaction holding the job has committed, so an
HTTP 2xx always means "on disk". Jobs that arrive while a commit is in flight form the
next batch, so the batch size grows with the load and the fsync cost is shared.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine

from jobpulse.store.db import is_sqlite

log = logging.getLogger(__name__)

T = TypeVar("T")
A = TypeVar("A")

# A batch handler turns many arguments into as many results inside one open transaction.
BatchHandler = Callable[[Connection, Sequence[Any]], Sequence[Any]]


@dataclass
class _Job:
    handler: BatchHandler
    argument: Any
    future: Future[Any] = field(default_factory=Future)


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
        self.stats = WriterStats()

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="jobpulse-writer", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Finish every job already submitted, then stop."""
        self._closed = True
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout)
            self._thread = None

    def submit(self, handler: BatchHandler, argument: Any) -> Future[Any]:
        if self._closed:
            raise WriterClosed("the writer is stopped")
        job = _Job(handler, argument)
        self._queue.put(job)
        return job.future

    async def run(self, handler: BatchHandler, argument: Any) -> Any:
        """Submit and wait for the commit; returns the handler's result for `argument`."""
        return await asyncio.wrap_future(self.submit(handler, argument))

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
        while True:
            batch, stopping = self._take_batch()
            if batch:
                self._commit(batch)
            if stopping:
                return

    def _connect(self) -> Connection:
        conn = self._engine.connect()
        if is_sqlite(self._engine):
            conn = conn.execution_options(sqlite_immediate=True)
        return conn

    def _commit(self, batch: list[_Job]) -> None:
        started = time.perf_counter()
        try:
            with self._connect() as conn, conn.begin():
                results = self._execute(conn, batch)
        except Exception:
            log.warning(
                "batch of %d failed; retrying its jobs one by one", len(batch), exc_info=True
            )
            self._commit_one_by_one(batch)
            return
        self.stats.batches += 1
        self.stats.jobs += len(batch)
        self.stats.last_batch_size = len(batch)
        self.stats.last_commit_seconds = time.perf_counter() - started
        for job, result in zip(batch, results, strict=True):
            job.future.set_result(result)

    def _commit_one_by_one(self, batch: list[_Job]) -> None:
        for job in batch:
            try:
                with self._connect() as conn, conn.begin():
                    (result,) = self._execute(conn, [job])
            except Exception as exc:  # the job's own failure goes back to its caller
                job.future.set_exception(exc)
            else:
                job.future.set_result(result)

    @staticmethod
    def _execute(conn: Connection, batch: list[_Job]) -> list[Any]:
        """Run consecutive jobs of one handler as one call, in arrival order."""
        results: list[Any] = []
        start = 0
        while start < len(batch):
            end = start
            handler = batch[start].handler
            while end < len(batch) and batch[end].handler is handler:
                end += 1
            arguments = [job.argument for job in batch[start:end]]
            produced = handler(conn, arguments)
            if len(produced) != len(arguments):
                raise RuntimeError(
                    f"{handler!r} returned {len(produced)} results for {len(arguments)}"
                )
            results.extend(produced)
            start = end
        return results
