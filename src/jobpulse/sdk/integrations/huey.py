"""Huey: `HueyIntegration(huey).setup(client)`.

Signals record enqueued / deferred, revoked / expired / interrupted; pre- and post-execute
hooks record started, then succeeded / failed / retried / canceled with the value or error.
"""

from __future__ import annotations

import os
import socket
from typing import TYPE_CHECKING, Any

from huey import signals as S
from huey.exceptions import CancelExecution, RetryTask

from jobpulse.sdk.heartbeat import WorkerHeartbeat
from jobpulse.sdk.integrations.base import QueueIntegration
from jobpulse.sdk.recorder import error_fields
from jobpulse.sdk.safety import guarded

if TYPE_CHECKING:
    pass

_HOOK = "jobpulse"


def _attempt(task: Any) -> int:
    initial = int(getattr(task, "default_retries", 0) or 0)
    return max(initial - int(task.retries or 0), 0) + 1


def _eta(task: Any) -> float | None:
    eta = getattr(task, "eta", None)
    return eta.timestamp() if eta is not None else None


class HueyIntegration(QueueIntegration):
    def __init__(
        self, huey: Any, *, record_args: bool = True, heartbeat_interval: float = 10.0
    ) -> None:
        super().__init__(record_args=record_args, heartbeat_interval=heartbeat_interval)
        self.huey = huey
        self._heartbeat: WorkerHeartbeat | None = None

    @property
    def worker_id(self) -> str:
        return f"{socket.gethostname()}:{os.getpid()}"

    def install(self) -> None:
        self.huey.disconnect_signal(self._signal)
        self.huey.signal()(self._signal)
        self.huey.pre_execute(_HOOK)(self._started)
        self.huey.post_execute(_HOOK)(self._finished)
        self.huey.on_startup(_HOOK)(self._worker_started)
        self.huey.on_shutdown(_HOOK)(self._worker_stopping)

    @guarded
    def _signal(self, signal: str, task: Any, *args: Any) -> None:
        name, queue = task.name, self.huey.name
        if signal == S.SIGNAL_ENQUEUED:
            self.recorder.enqueued(
                task.id,
                name,
                queue,
                attempt=_attempt(task),
                args=list(task.args or ()),
                kwargs=dict(task.kwargs or {}),
                retries=_attempt(task) - 1,
                max_retries=getattr(task, "default_retries", None),
            )
        elif signal == S.SIGNAL_SCHEDULED:
            self.client.record(
                "deferred", task.id, name, queue, attempt=_attempt(task), eta=_eta(task)
            )
        elif signal in (S.SIGNAL_REVOKED, S.SIGNAL_EXPIRED):
            kind = "expired" if signal == S.SIGNAL_EXPIRED else "canceled"
            self.recorder.finished(kind, task.id, name, queue, attempt=_attempt(task))
        elif signal == S.SIGNAL_INTERRUPTED:
            self.recorder.finished(
                "failed",
                task.id,
                name,
                queue,
                attempt=_attempt(task),
                worker_id=self.worker_id,
                error="Interrupted: the consumer stopped during the task",
            )

    @guarded
    def _started(self, task: Any) -> None:
        self.recorder.started(
            task.id,
            task.name,
            self.huey.name,
            attempt=_attempt(task),
            worker_id=self.worker_id,
            args=list(task.args or ()),
            kwargs=dict(task.kwargs or {}),
        )

    @guarded
    def _finished(self, task: Any, value: Any, error: BaseException | None) -> None:
        fields: dict[str, Any] = {"attempt": _attempt(task), "worker_id": self.worker_id}
        if error is None:
            kind = "succeeded"
            fields["result"] = value
        elif isinstance(error, CancelExecution) and not task.retries:
            kind = "canceled"
        else:
            retrying = bool(task.retries) or isinstance(error, RetryTask)
            kind = "retried" if retrying else "failed"
            fields.update(error_fields(error))
        if isinstance(error, RetryTask):
            fields["attempt"] -= 1  # RetryTask added one retry before this hook ran
        self.recorder.finished(kind, task.id, task.name, self.huey.name, **fields)

    @guarded
    def _worker_started(self) -> None:
        if self._heartbeat is None:
            self.client.transport.start()
            self._heartbeat = WorkerHeartbeat(
                self.client, self.worker_id, "huey", [self.huey.name], self.heartbeat_interval
            )
            self._heartbeat.start()

    @guarded
    def _worker_stopping(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.stop()
            self._heartbeat = None
        self.client.flush()
