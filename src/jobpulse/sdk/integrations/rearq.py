"""ReArq: `ReArqIntegration().setup(client)` where the `ReArq` app is created (and in producers).

It wraps `Task.delay` (enqueued / deferred), `Worker._run_job` and each task's function.
ReArq calls a function with its arguments only, so the run (job id, attempt, worker) is
handed to the function's asyncio task in a contextvar: the function wrapper records the start
and keeps the exception with its traceback; the status `_run_job` leaves on the job gives the
outcome (success, failed, deferred again = retried, expired). A job that outlives its
`job_timeout` fails with a `TimeoutError`; one cancelled through ReArq's channel or by the
worker's shutdown is canceled. Workers send heartbeats under ReArq's own worker name
(`group-consumer`), as the `rearq` collector shows them.
"""

from __future__ import annotations

import asyncio
import contextvars
import dataclasses
import functools
import time
from datetime import datetime
from typing import TYPE_CHECKING, Any

from rearq.constants import QUEUE_KEY_PREFIX
from rearq.enums import JobStatus
from rearq.task import Task
from rearq.utils import to_ms_timestamp
from rearq.worker import TimerWorker, Worker

from jobpulse.sdk.heartbeat import WorkerHeartbeat
from jobpulse.sdk.integrations.base import QueueIntegration
from jobpulse.sdk.recorder import error_fields
from jobpulse.sdk.safety import guarded

if TYPE_CHECKING:
    pass


@dataclasses.dataclass
class _Run:
    """One execution of a job, shared between `_run_job` and the function's asyncio task."""

    job_id: str
    task_name: str
    queue: str
    attempt: int
    worker_id: str
    timeout: float | None
    args: list[Any]
    kwargs: dict[str, Any]
    status_before: str
    began: float | None = None  # monotonic, once the function runs
    result: Any = None
    error: BaseException | None = None
    interrupted: bool = False  # the function was cancelled (timeout, cancel or shutdown)


_current_run: contextvars.ContextVar[_Run | None] = contextvars.ContextVar(
    "jobpulse_rearq_run", default=None
)
_active: ReArqIntegration | None = None
_patched = False


def queue_name(key: str) -> str:
    """ReArq keeps a queue as the stream `rearq:queue:NAME`; jobpulse shows NAME."""
    return key.removeprefix(QUEUE_KEY_PREFIX)


def _timestamp(moment: datetime | None) -> float | None:
    return moment.timestamp() if moment is not None else None


class ReArqIntegration(QueueIntegration):
    def __init__(self, *, record_args: bool = True, heartbeat_interval: float = 10.0) -> None:
        super().__init__(record_args=record_args, heartbeat_interval=heartbeat_interval)
        self._heartbeats: dict[str, WorkerHeartbeat] = {}

    def install(self) -> None:
        global _active
        _active = self
        _patch_once()

    @guarded
    def enqueued(self, queue_key: str, job: Any, countdown: Any, eta: Any) -> None:
        fields = {
            "attempt": int(job.job_retries) + 1,
            "args": list(job.args or ()),
            "kwargs": dict(job.kwargs or {}),
            "max_retries": job.job_retry,
            "expires": _timestamp(job.expire_time),
        }
        task_name, queue = job.task, queue_name(queue_key)  # a job does not keep its queue
        if job.status == JobStatus.deferred:
            due = to_ms_timestamp(countdown or eta) / 1000  # as Task.delay computes it
            self.recorder.deferred(job.job_id, task_name, queue, eta=due, **fields)
        else:
            self.recorder.enqueued(job.job_id, task_name, queue, **fields)

    @guarded
    def prepare(self, worker: Worker, queue_key: str, job: Any) -> _Run:
        task = worker.rearq.task_map.get(job.task)
        if task is not None and not task.is_builtin:
            _wrap_function(task)
        return _Run(
            job_id=job.job_id,
            task_name=job.task,
            queue=queue_name(queue_key),
            attempt=int(job.job_retries) + 1,
            worker_id=worker.worker_name,
            timeout=task.job_timeout if task is not None else None,
            args=list(job.args or ()),
            kwargs=dict(job.kwargs or {}),
            status_before=job.status,
        )

    @guarded
    def started(self, run: _Run) -> None:
        run.began = time.monotonic()
        self.recorder.started(
            run.job_id,
            run.task_name,
            run.queue,
            attempt=run.attempt,
            worker_id=run.worker_id,
            args=run.args,
            kwargs=run.kwargs,
        )

    @guarded
    def ended(self, run: _Run, worker: Worker, job: Any, job_result: Any) -> None:
        """Record what `_run_job` made of the job (its status), if it did anything."""
        status = job.status
        if run.began is None and status == run.status_before:
            return  # unknown or disabled task: ReArq left the job as it was
        fields: dict[str, Any] = {"attempt": run.attempt, "worker_id": run.worker_id}
        if status == JobStatus.expired:
            kind = "expired"
        elif status == JobStatus.success:
            kind = "succeeded"
            fields["result"] = run.result
        elif status in (JobStatus.failed, JobStatus.deferred):
            kind = "failed" if status == JobStatus.failed else "retried"
            if kind == "retried":
                fields["retry_after"] = float(worker.job_retry_after)
            if run.error is not None:
                fields.update(error_fields(run.error))
            elif run.interrupted and run.timeout is not None:
                fields["error"] = f"TimeoutError: job exceeded its {run.timeout:g}s timeout"
            elif job_result is not None:  # failed before the function ran (its lock was taken)
                fields["error"] = str(job_result.result)
        else:
            return
        self.recorder.finished(kind, run.job_id, run.task_name, run.queue, **fields)

    @guarded
    def canceled(self, run: _Run) -> None:
        if run.began is not None:
            fields = {"attempt": run.attempt, "worker_id": run.worker_id}
            self.recorder.finished("canceled", run.job_id, run.task_name, run.queue, **fields)

    @guarded
    def worker_ready(self, worker: Worker) -> None:
        if isinstance(worker, TimerWorker):
            return  # the timer only moves due jobs into queues; it runs none
        self.client.transport.start()
        queues = [queue_name(queue) for queue in worker.queues]
        heartbeat = WorkerHeartbeat(
            self.client, worker.worker_name, "rearq", queues, self.heartbeat_interval
        )
        self._heartbeats[worker.worker_name] = heartbeat
        heartbeat.start()

    async def worker_closing(self, worker: Worker) -> None:
        await asyncio.to_thread(self._stop_worker, str(worker.worker_name))

    @guarded
    def _stop_worker(self, worker_id: str) -> None:
        heartbeat = self._heartbeats.pop(worker_id, None)
        if heartbeat is not None:
            heartbeat.stop()  # reports it offline
        self.client.flush()


def _wrap_function(task: Task) -> None:
    function = task.function
    if getattr(function, "_jobpulse_wrapped", False):
        return

    @functools.wraps(function)
    async def run(*args: Any, **kwargs: Any) -> Any:
        current = _current_run.get()
        if current is None or _active is None:
            return await function(*args, **kwargs)
        _active.started(current)
        try:
            result = await function(*args, **kwargs)
        except asyncio.CancelledError:
            current.interrupted = True
            raise
        except Exception as error:
            current.error = error
            raise
        current.result = result
        return result

    run._jobpulse_wrapped = True  # type: ignore[attr-defined]
    task.function = run


def _patch_once() -> None:
    global _patched
    if _patched:
        return
    _patched = True
    delay = Task.delay
    run_job = Worker._run_job
    pre_run = Worker._pre_run
    close = Worker.close

    @functools.wraps(delay)
    async def delay_recorded(self: Task, *args: Any, **kwargs: Any) -> Any:
        job = await delay(self, *args, **kwargs)
        if job is not None and _active is not None:
            _active.enqueued(self.queue, job, kwargs.get("countdown"), kwargs.get("eta"))
        return job

    @functools.wraps(run_job)
    async def run_job_recorded(self: Worker, queue: str, msg_id: str, job: Any) -> Any:
        integration = _active
        run = integration.prepare(self, queue, job) if integration is not None else None
        if integration is None or run is None:
            return await run_job(self, queue, msg_id, job)
        token = _current_run.set(run)
        try:
            job_result = await run_job(self, queue, msg_id, job)
        except asyncio.CancelledError:
            integration.canceled(run)
            raise
        except Exception:  # ReArq(raise_job_error=True) re-raises after setting the status
            integration.ended(run, self, job, None)
            raise
        finally:
            _current_run.reset(token)
        integration.ended(run, self, job, job_result)
        return job_result

    @functools.wraps(pre_run)
    async def pre_run_then_beat(self: Worker) -> None:
        await pre_run(self)  # creates the consumer groups and names the consumer
        if _active is not None:
            _active.worker_ready(self)

    @functools.wraps(close)
    async def close_after_flush(self: Worker) -> None:
        try:
            if _active is not None:
                await _active.worker_closing(self)
        finally:
            await close(self)

    Task.delay = delay_recorded  # type: ignore[method-assign]
    Worker._run_job = run_job_recorded  # type: ignore[method-assign]
    Worker._pre_run = pre_run_then_beat  # type: ignore[method-assign]
    Worker.close = close_after_flush  # type: ignore[method-assign]
