"""Dramatiq: `DramatiqIntegration().setup(client, broker)` or `broker.add_middleware(...)`.

A `JobpulseMiddleware` placed first in the broker's list, so that its `after_*` hooks run
last (Dramatiq calls them in reverse) and see the Retries middleware's decision.
"""

from __future__ import annotations

import os
import socket
import time
from typing import TYPE_CHECKING, Any

import dramatiq
from dramatiq.middleware import Middleware

from jobpulse.sdk.heartbeat import WorkerHeartbeat
from jobpulse.sdk.recorder import TaskRecorder, error_fields
from jobpulse.sdk.safety import guarded

if TYPE_CHECKING:
    from jobpulse.sdk.client import Client


def _attempt(message: Any) -> int:
    return int(message.options.get("retries", 0) or 0) + 1


class JobpulseMiddleware(Middleware):
    def __init__(
        self, client: Client, *, record_args: bool = True, heartbeat_interval: float = 10.0
    ) -> None:
        self.client = client
        self.recorder = TaskRecorder(client, record_args=record_args)
        self.heartbeat_interval = heartbeat_interval
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}"
        self._attempts: dict[str, int] = {}
        self._heartbeat: WorkerHeartbeat | None = None

    @guarded
    def after_enqueue(self, broker: Any, message: Any, delay: int | None) -> None:
        # A delayed message is enqueued twice: to the delay queue now (deferred, with its
        # eta), then to its queue when due (enqueued).
        fields = {
            "attempt": _attempt(message),
            "args": list(message.args),
            "kwargs": dict(message.kwargs),
        }
        if delay:
            self.client.record(
                "deferred",
                message.message_id,
                message.actor_name,
                message.queue_name,
                eta=time.time() + delay / 1000,
                **fields,
            )
        else:
            self.recorder.enqueued(
                message.message_id, message.actor_name, message.queue_name, **fields
            )

    @guarded
    def before_process_message(self, broker: Any, message: Any) -> None:
        attempt = _attempt(message)
        self._attempts[message.message_id] = attempt
        self.recorder.started(
            message.message_id,
            message.actor_name,
            message.queue_name,
            attempt=attempt,
            worker_id=self.worker_id,
            args=list(message.args),
            kwargs=dict(message.kwargs),
            retries=attempt - 1,
            max_retries=message.options.get("max_retries"),
        )

    @guarded
    def after_process_message(
        self,
        broker: Any,
        message: Any,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        attempt = self._attempts.pop(message.message_id, _attempt(message))
        fields: dict[str, Any] = {"attempt": attempt, "worker_id": self.worker_id}
        if exception is None:
            kind = "succeeded"
            fields["result"] = result
        else:
            kind = "failed" if message.failed else "retried"
            fields.update(error_fields(exception))
        self.recorder.finished(
            kind, message.message_id, message.actor_name, message.queue_name, **fields
        )

    @guarded
    def after_skip_message(self, broker: Any, message: Any) -> None:
        attempt = self._attempts.pop(message.message_id, _attempt(message))
        self.recorder.finished(
            "canceled",
            message.message_id,
            message.actor_name,
            message.queue_name,
            attempt=attempt,
            worker_id=self.worker_id,
        )

    @guarded
    def after_worker_boot(self, broker: Any, worker: Any) -> None:
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}"
        self.client.transport.start()
        queues = sorted(getattr(worker, "queues", None) or broker.get_declared_queues())
        self._heartbeat = WorkerHeartbeat(
            self.client, self.worker_id, "dramatiq", queues, self.heartbeat_interval
        )
        self._heartbeat.start()

    @guarded
    def before_worker_shutdown(self, broker: Any, worker: Any) -> None:
        if self._heartbeat is not None:
            self._heartbeat.stop()
        self.client.flush()


class DramatiqIntegration:
    def __init__(
        self,
        broker: Any = None,
        *,
        record_args: bool = True,
        heartbeat_interval: float = 10.0,
    ) -> None:
        self.broker = broker
        self.record_args = record_args
        self.heartbeat_interval = heartbeat_interval

    def setup(self, client: Client) -> None:
        """Add the middleware (once) to the given broker, or to Dramatiq's global broker."""
        broker = self.broker or dramatiq.get_broker()
        if any(isinstance(m, JobpulseMiddleware) for m in broker.middleware):
            return
        middleware = JobpulseMiddleware(
            client, record_args=self.record_args, heartbeat_interval=self.heartbeat_interval
        )
        first = type(broker.middleware[0]) if broker.middleware else None
        broker.add_middleware(middleware, before=first)
