"""RQ: `RQIntegration().setup(client)` in the worker's settings module and in producers.

Like sentry-sdk's RQ integration it wraps `Queue.enqueue_job` (enqueued / deferred) and
`Worker.perform_job` (started, then succeeded / failed / retried). A forking worker runs jobs
in a work horse that leaves with `os._exit`; the horse writes its events to the disk spool
(no network, no sender thread an exit could cut off) and the worker process, whose sender
thread starts at birth, sends them within a second.
"""

from __future__ import annotations

import functools
import sys
from typing import TYPE_CHECKING, Any

from rq.job import JobStatus
from rq.queue import Queue
from rq.worker import Worker

from jobpulse.sdk.heartbeat import WorkerHeartbeat
from jobpulse.sdk.integrations.base import QueueIntegration
from jobpulse.sdk.recorder import error_fields
from jobpulse.sdk.safety import guarded

if TYPE_CHECKING:
    pass

_MAX_RETRIES_META = "jobpulse_max_retries"
_ERROR_ATTRIBUTE = "_jobpulse_exc_info"


def _attempt(job: Any) -> int:
    """1 + the retries already used (exception retries and `Retry` results alike)."""
    initial = job.meta.get(_MAX_RETRIES_META) if isinstance(job.meta, dict) else None
    used_by_exceptions = (initial - (job.retries_left or 0)) if initial else 0
    return used_by_exceptions + (job.number_of_retries or 0) + 1


def _task_name(job: Any) -> str:
    try:
        return str(job.func_name)
    except Exception:
        return "<undeserializable>"


class RQIntegration(QueueIntegration):
    def install(self) -> None:
        global _active
        _active = self
        _patch_once()

    # -- producer side -------------------------------------------------------------------

    @guarded
    def before_enqueue(self, job: Any) -> None:
        if job.retries_left and isinstance(job.meta, dict):
            job.meta.setdefault(_MAX_RETRIES_META, job.retries_left)

    @guarded
    def enqueued(self, job: Any) -> None:
        deferred = job.get_status(refresh=False) == JobStatus.DEFERRED
        self.recorder.enqueued(
            job.id,
            _task_name(job),
            job.origin,
            attempt=_attempt(job),
            args=list(job.args or ()),
            kwargs=dict(job.kwargs or {}),
            retries=job.number_of_retries,
            max_retries=job.meta.get(_MAX_RETRIES_META),
        )
        if deferred:
            self.client.record("deferred", job.id, _task_name(job), job.origin)

    # -- worker side ---------------------------------------------------------------------

    @guarded
    def started(self, worker: Any, job: Any) -> dict[str, Any]:
        setattr(worker, _ERROR_ATTRIBUTE, None)
        fields = {"attempt": _attempt(job), "worker_id": worker.name}
        self.recorder.started(
            job.id,
            _task_name(job),
            job.origin,
            args=list(job.args or ()),
            kwargs=dict(job.kwargs or {}),
            **fields,
        )
        if getattr(worker, "_is_horse", False):
            self.client.transport.spool_only = True
            self.client.transport.spool_pending()
        return {**fields, "retries_left": job.retries_left}

    @guarded
    def finished(self, worker: Any, job: Any, ok: bool, before: dict[str, Any]) -> None:
        name, queue = _task_name(job), job.origin
        fields = {"attempt": before["attempt"], "worker_id": before["worker_id"]}
        result = getattr(job, "_result", None)
        if ok and type(result).__name__ == "Retry":
            failed = job.get_status(refresh=False) == JobStatus.FAILED
            self.recorder.finished("failed" if failed else "retried", job.id, name, queue, **fields)
        elif ok:
            self.recorder.finished("succeeded", job.id, name, queue, result=result, **fields)
        else:
            exc_info = getattr(worker, _ERROR_ATTRIBUTE, None) or (None, None, None)
            retried = bool(before["retries_left"]) and job.get_status(refresh=False) != "stopped"
            self.recorder.finished(
                "retried" if retried else "failed",
                job.id,
                name,
                queue,
                **error_fields(exc_info[1], exc_info[2]),
                **fields,
            )
        if getattr(worker, "_is_horse", False):
            self.client.transport.spool_pending()  # the horse leaves with os._exit

    @guarded
    def worker_born(self, worker: Any) -> None:
        self.client.transport.start()
        queues = [queue.name for queue in worker.queues]
        worker._jobpulse_heartbeat = WorkerHeartbeat(
            self.client, worker.name, "rq", queues, self.heartbeat_interval
        )
        worker._jobpulse_heartbeat.start()

    @guarded
    def worker_died(self, worker: Any) -> None:
        heartbeat = getattr(worker, "_jobpulse_heartbeat", None)
        if heartbeat is not None:
            heartbeat.stop()
        self.client.flush()


_active: RQIntegration | None = None
_patched = False


def _patch_once() -> None:
    global _patched
    if _patched:
        return
    _patched = True
    enqueue_job = Queue.enqueue_job
    perform_job = Worker.perform_job
    handle_exception = Worker.handle_exception
    register_birth = Worker.register_birth
    register_death = Worker.register_death

    @functools.wraps(enqueue_job)
    def enqueue_job_recorded(self: Queue, job: Any, *args: Any, **kwargs: Any) -> Any:
        if _active is not None:
            _active.before_enqueue(job)
        enqueued = enqueue_job(self, job, *args, **kwargs)
        if _active is not None:
            _active.enqueued(enqueued)
        return enqueued

    @functools.wraps(perform_job)
    def perform_job_recorded(self: Worker, job: Any, *args: Any, **kwargs: Any) -> Any:
        if _active is None:
            return perform_job(self, job, *args, **kwargs)
        before = _active.started(self, job)
        ok = perform_job(self, job, *args, **kwargs)
        if before is not None:
            _active.finished(self, job, bool(ok), before)
        return ok

    @functools.wraps(handle_exception)
    def handle_exception_recorded(self: Worker, job: Any, *exc_info: Any) -> Any:
        setattr(self, _ERROR_ATTRIBUTE, exc_info or sys.exc_info())
        return handle_exception(self, job, *exc_info)

    @functools.wraps(register_birth)
    def register_birth_recorded(self: Worker, *args: Any, **kwargs: Any) -> Any:
        result = register_birth(self, *args, **kwargs)
        if _active is not None:
            _active.worker_born(self)
        return result

    @functools.wraps(register_death)
    def register_death_recorded(self: Worker, *args: Any, **kwargs: Any) -> Any:
        if _active is not None:
            _active.worker_died(self)
        return register_death(self, *args, **kwargs)

    Queue.enqueue_job = enqueue_job_recorded  # type: ignore[method-assign]
    Worker.perform_job = perform_job_recorded  # type: ignore[method-assign,assignment]
    Worker.handle_exception = handle_exception_recorded  # type: ignore[method-assign,assignment]
    Worker.register_birth = register_birth_recorded  # type: ignore[method-assign,assignment]
    Worker.register_death = register_death_recorded  # type: ignore[method-assign,assignment]
