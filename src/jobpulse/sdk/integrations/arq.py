"""arq: `ArqIntegration().setup(client)` before the worker starts (and in producers).

Like sentry-sdk's arq integration, it wraps `ArqRedis.enqueue_job` (enqueued / deferred)
and each worker function (started, then succeeded / failed / retried). arq cancels a job
that times out or is aborted from outside the function; `on_job_end` then records the run as
failed (timeout) or canceled (abort) if the wrapper saw no outcome.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import os
import socket
import time
from typing import TYPE_CHECKING, Any

from arq.connections import ArqRedis
from arq.worker import Retry, Worker

from jobpulse.sdk.heartbeat import WorkerHeartbeat
from jobpulse.sdk.integrations.base import QueueIntegration
from jobpulse.sdk.recorder import error_fields
from jobpulse.sdk.safety import guarded

if TYPE_CHECKING:
    pass


@dataclasses.dataclass(frozen=True)
class _Spec:
    name: str
    queue: str
    timeout: float | None
    max_tries: int


@dataclasses.dataclass(frozen=True)
class _Run:
    spec: _Spec
    attempt: int
    began: float


_active: ArqIntegration | None = None
_patched = False


class ArqIntegration(QueueIntegration):
    def __init__(self, *, record_args: bool = True, heartbeat_interval: float = 10.0) -> None:
        super().__init__(record_args=record_args, heartbeat_interval=heartbeat_interval)
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}"
        self._open_runs: dict[str, _Run] = {}

    def install(self) -> None:
        global _active
        _active = self
        _patch_once()

    @guarded
    def enqueued(
        self, job_id: str, function: str, queue: str, kwargs: dict[str, Any], args: tuple[Any, ...]
    ) -> None:
        defer_until, defer_by = kwargs.get("_defer_until"), kwargs.get("_defer_by")
        eta = None
        if defer_until is not None:
            eta = defer_until.timestamp()
        elif defer_by is not None:
            seconds = defer_by.total_seconds() if hasattr(defer_by, "total_seconds") else defer_by
            eta = time.time() + float(seconds)
        public_kwargs = {key: value for key, value in kwargs.items() if not key.startswith("_")}
        fields = {
            "attempt": kwargs.get("_job_try") or 1,
            "args": list(args),
            "kwargs": public_kwargs,
        }
        if eta is not None:
            self.client.record("deferred", job_id, function, queue, eta=eta, **fields)
        else:
            self.recorder.enqueued(job_id, function, queue, **fields)

    @guarded
    def started(
        self, ctx: dict[str, Any], spec: _Spec, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> None:
        job_id, attempt = ctx["job_id"], int(ctx.get("job_try") or 1)
        name, queue = spec.name, spec.queue
        self._open_runs[job_id] = _Run(spec, attempt, time.monotonic())
        self.recorder.started(
            job_id,
            name,
            queue,
            attempt=attempt,
            worker_id=self.worker_id,
            args=list(args),
            kwargs=kwargs,
        )

    @guarded
    def finished(
        self, ctx: dict[str, Any], result: Any = None, error: BaseException | None = None
    ) -> None:
        run = self._open_runs.pop(ctx["job_id"], None)
        if run is None:
            return
        name, queue, attempt = run.spec.name, run.spec.queue, run.attempt
        fields: dict[str, Any] = {"attempt": attempt, "worker_id": self.worker_id}
        if error is None:
            kind = "succeeded"
            fields["result"] = result
        else:
            retrying = isinstance(error, Retry) and attempt < run.spec.max_tries
            kind = "retried" if retrying else "failed"
            fields.update(error_fields(error))
            if isinstance(error, Retry) and error.defer_score:
                fields["retry_after"] = error.defer_score / 1000
        self.recorder.finished(kind, ctx["job_id"], name, queue, **fields)

    @guarded
    def cancelled(self, ctx: dict[str, Any]) -> None:
        """The job's task was cancelled from outside (timeout, abort or shutdown)."""
        run = self._open_runs.pop(ctx["job_id"], None)
        if run is None:
            return
        name, queue, attempt, timeout = run.spec.name, run.spec.queue, run.attempt, run.spec.timeout
        timed_out = timeout is not None and time.monotonic() - run.began >= timeout * 0.99
        fields = {"attempt": attempt, "worker_id": self.worker_id}
        if timed_out:
            self.recorder.finished(
                "failed",
                ctx["job_id"],
                name,
                queue,
                error=f"TimeoutError: job exceeded its {timeout:g}s timeout",
                **fields,
            )
        else:
            self.recorder.finished("canceled", ctx["job_id"], name, queue, **fields)

    def instrument(self, worker: Worker) -> None:
        for name, function in list(worker.functions.items()):
            timeout = function.timeout_s if function.timeout_s is not None else worker.job_timeout_s
            max_tries = getattr(function, "max_tries", None) or worker.max_tries
            spec = _Spec(name, worker.queue_name, timeout, max_tries)
            wrapped = _wrap(function.coroutine, spec)
            worker.functions[name] = dataclasses.replace(function, coroutine=wrapped)
        worker.on_job_end = _chain(worker.on_job_end, self._job_end)
        worker.on_startup = _chain(worker.on_startup, self._startup(worker))
        worker.on_shutdown = _chain(worker.on_shutdown, self._shutdown)

    async def _job_end(self, ctx: dict[str, Any]) -> None:
        if ctx.get("job_id") in self._open_runs:
            self.cancelled(ctx)

    def _startup(self, worker: Worker) -> Any:
        async def start(ctx: dict[str, Any]) -> None:
            self._start_heartbeat(worker)

        return start

    @guarded
    def _start_heartbeat(self, worker: Worker) -> None:
        self.client.transport.start()
        self._heartbeat = WorkerHeartbeat(
            self.client, self.worker_id, "arq", [worker.queue_name], self.heartbeat_interval
        )
        self._heartbeat.start()

    async def _shutdown(self, ctx: dict[str, Any]) -> None:
        heartbeat = getattr(self, "_heartbeat", None)
        if heartbeat is not None:
            await asyncio.to_thread(heartbeat.stop)
        await asyncio.to_thread(self.client.flush)


def _wrap(coroutine: Any, spec: _Spec) -> Any:
    @functools.wraps(coroutine)
    async def run(ctx: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        if _active is None:
            return await coroutine(ctx, *args, **kwargs)
        _active.started(ctx, spec, args, kwargs)
        try:
            result = await coroutine(ctx, *args, **kwargs)
        except asyncio.CancelledError:
            raise  # timeout, abort or shutdown: on_job_end decides
        except Exception as error:
            _active.finished(ctx, error=error)
            raise
        _active.finished(ctx, result=result)
        return result

    return run


def _chain(first: Any, second: Any) -> Any:
    if first is None:
        return second

    async def both(ctx: dict[str, Any]) -> None:
        await first(ctx)
        await second(ctx)

    return both


def _patch_once() -> None:
    global _patched
    if _patched:
        return
    _patched = True
    enqueue_job = ArqRedis.enqueue_job
    worker_init = Worker.__init__

    @functools.wraps(enqueue_job)
    async def enqueue_job_recorded(self: ArqRedis, function: str, *args: Any, **kwargs: Any) -> Any:
        job = await enqueue_job(self, function, *args, **kwargs)
        if job is not None and _active is not None:
            queue = kwargs.get("_queue_name") or self.default_queue_name
            _active.enqueued(job.job_id, function, queue, kwargs, args)
        return job

    @functools.wraps(worker_init)
    def worker_init_instrumented(self: Worker, *args: Any, **kwargs: Any) -> None:
        worker_init(self, *args, **kwargs)
        if _active is not None:
            guarded(_active.instrument)(self)

    ArqRedis.enqueue_job = enqueue_job_recorded  # type: ignore[method-assign]
    Worker.__init__ = worker_init_instrumented  # type: ignore[method-assign]
