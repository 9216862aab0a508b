"""Celery: `CeleryIntegration().setup(client)` (or `Client(integrations=[...])`).

Signals: after_task_publish → enqueued; task_prerun → started; task_success, task_failure,
task_retry, task_revoked → succeeded, failed, retried, expired/canceled. Prefork children
flush at process shutdown; the main worker process sends heartbeats.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from celery import signals

from jobpulse.sdk.heartbeat import WorkerHeartbeat
from jobpulse.sdk.integrations.base import QueueIntegration
from jobpulse.sdk.recorder import error_fields
from jobpulse.sdk.safety import guarded

if TYPE_CHECKING:
    pass

_UID = "jobpulse-celery"


def _queue_of(request: Any) -> str | None:
    delivery = getattr(request, "delivery_info", None) or {}
    return delivery.get("routing_key") or delivery.get("queue") or None


def _attempt(request: Any) -> int:
    return int(getattr(request, "retries", 0) or 0) + 1


class CeleryIntegration(QueueIntegration):
    def __init__(self, *, record_args: bool = True, heartbeat_interval: float = 10.0) -> None:
        super().__init__(record_args=record_args, heartbeat_interval=heartbeat_interval)
        self._heartbeat: WorkerHeartbeat | None = None

    def install(self) -> None:
        hooks = {
            signals.after_task_publish: self._published,
            signals.task_prerun: self._prerun,
            signals.task_success: self._success,
            signals.task_failure: self._failure,
            signals.task_retry: self._retry,
            signals.task_revoked: self._revoked,
            signals.task_postrun: self._postrun,
            signals.worker_ready: self._worker_ready,
            signals.worker_shutdown: self._worker_shutdown,
            signals.worker_process_shutdown: self._process_shutdown,
        }
        for signal, hook in hooks.items():
            signal.connect(hook, weak=False, dispatch_uid=f"{_UID}-{signal.name}")
        self._signals = list(hooks)

    def teardown(self) -> None:
        """Disconnect the signals (tests; a second `setup` with another client)."""
        for signal in getattr(self, "_signals", []):
            signal.disconnect(dispatch_uid=f"{_UID}-{signal.name}")

    @guarded
    def _published(
        self,
        sender: Any = None,
        headers: Any = None,
        body: Any = None,
        routing_key: str = "",
        **_: Any,
    ) -> None:
        headers = headers or {}
        if "id" not in headers:
            return  # task protocol 1; nothing reliable to record
        # Protocol 2 bodies are (args, kwargs, embed); fall back to the reprs in the headers.
        if isinstance(body, list | tuple) and len(body) == 3:
            args, kwargs = list(body[0] or ()), dict(body[1] or {})
        else:
            args, kwargs = headers.get("argsrepr"), headers.get("kwargsrepr")
        self.recorder.enqueued(
            headers["id"],
            str(headers.get("task") or sender),
            routing_key or None,
            attempt=int(headers.get("retries") or 0) + 1,
            eta=headers.get("eta"),
            expires=headers.get("expires"),
            args=args,
            kwargs=kwargs,
            trace_id=headers.get("root_id"),
        )

    @guarded
    def _prerun(
        self, task_id: str, task: Any, args: Any = None, kwargs: Any = None, **_: Any
    ) -> None:
        request = task.request
        self.recorder.started(
            task_id,
            task.name,
            _queue_of(request),
            attempt=_attempt(request),
            worker_id=getattr(request, "hostname", None),
            args=list(args or ()),
            kwargs=dict(kwargs or {}),
            retries=getattr(request, "retries", None),
            max_retries=getattr(task, "max_retries", None),
            trace_id=getattr(request, "root_id", None),
        )

    @guarded
    def _success(self, sender: Any, result: Any = None, **_: Any) -> None:
        request = sender.request
        self.recorder.finished(
            "succeeded",
            request.id,
            sender.name,
            _queue_of(request),
            attempt=_attempt(request),
            worker_id=getattr(request, "hostname", None),
            result=result,
        )

    @guarded
    def _failure(
        self,
        sender: Any,
        task_id: str,
        exception: BaseException | None = None,
        einfo: Any = None,
        **_: Any,
    ) -> None:
        request = sender.request
        self.recorder.finished(
            "failed",
            task_id,
            sender.name,
            _queue_of(request),
            attempt=_attempt(request),
            worker_id=getattr(request, "hostname", None),
            retries=getattr(request, "retries", None),
            max_retries=getattr(sender, "max_retries", None),
            **error_fields(exception, getattr(einfo, "traceback", None)),
        )

    @guarded
    def _retry(
        self, sender: Any, request: Any, reason: Any = None, einfo: Any = None, **_: Any
    ) -> None:
        when = getattr(reason, "when", None)
        cause = getattr(reason, "exc", None) or (
            reason if isinstance(reason, BaseException) else None
        )
        self.recorder.finished(
            "retried",
            request.id,
            sender.name,
            _queue_of(request),
            attempt=_attempt(request),
            worker_id=getattr(request, "hostname", None),
            retries=getattr(request, "retries", None),
            max_retries=getattr(sender, "max_retries", None),
            retry_after=when if isinstance(when, int | float) else None,
            **error_fields(cause, getattr(einfo, "traceback", None)),
        )

    @guarded
    def _revoked(
        self, sender: Any = None, request: Any = None, expired: bool = False, **_: Any
    ) -> None:
        if request is None:
            return
        name = getattr(sender, "name", None) or getattr(request, "task_name", None) or "unknown"
        self.recorder.finished(
            "expired" if expired else "canceled",
            request.id,
            str(name),
            _queue_of(request),
            attempt=_attempt(request),
            worker_id=getattr(request, "hostname", None),
        )

    @guarded
    def _postrun(self, task_id: str, **_: Any) -> None:
        self.recorder.leave(task_id)

    @guarded
    def _worker_ready(self, sender: Any = None, **_: Any) -> None:
        self.client.transport.start()
        hostname = str(getattr(sender, "hostname", None) or "celery")
        queues = (
            [queue.name for queue in sender.app.amqp.queues.consume_from.values()] if sender else []
        )
        self._heartbeat = WorkerHeartbeat(
            self.client, hostname, "celery", queues, self.heartbeat_interval
        )
        self._heartbeat.start()

    @guarded
    def _worker_shutdown(self, **_: Any) -> None:
        if self._heartbeat is not None:
            self._heartbeat.stop()
        self.client.flush()

    @guarded
    def _process_shutdown(self, **_: Any) -> None:
        self.client.flush()
