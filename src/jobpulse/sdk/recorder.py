"""What every integration records, in one vocabulary: the lifecycle of one task run.

Integrations translate their library's hooks into these calls; the recorder builds the
events (DESIGN.md, "Task events"), keeps the current task in a contextvar for logging, and
hands the events to the client's transport. Its methods never raise.
"""

from __future__ import annotations

import traceback as traceback_module
from contextvars import Token
from types import TracebackType
from typing import TYPE_CHECKING, Any

from jobpulse.sdk.context import TaskContext, enter_task, leave_task
from jobpulse.sdk.safety import guarded, jsonable

if TYPE_CHECKING:
    from jobpulse.sdk.client import Client

MAX_TRACEBACK = 10_000


def error_fields(
    error: BaseException | None, tb: TracebackType | str | None = None
) -> dict[str, str]:
    """`error` ("Type: message") and `traceback` (its last 10 kB) of an exception."""
    if error is None:
        return {}
    fields = {"error": f"{type(error).__name__}: {error}"[:2000]}
    if isinstance(tb, str):
        text = tb
    else:
        trace = tb if tb is not None else error.__traceback__
        text = "".join(traceback_module.format_exception(type(error), error, trace))
    if text:
        fields["traceback"] = text[-MAX_TRACEBACK:]
    return fields


class TaskRecorder:
    def __init__(self, client: Client, *, record_args: bool = True) -> None:
        self.client = client
        self.record_args = record_args
        self._contexts: dict[str, Token[TaskContext | None]] = {}

    @guarded
    def enqueued(self, job_id: str, task_name: str, queue: str | None, **fields: Any) -> None:
        self._record("enqueued", job_id, task_name, queue, fields)

    @guarded
    def deferred(self, job_id: str, task_name: str, queue: str | None, **fields: Any) -> None:
        """Record a run that waits for its `eta` before it is queued."""
        self._record("deferred", job_id, task_name, queue, fields)

    @guarded
    def started(self, job_id: str, task_name: str, queue: str | None, **fields: Any) -> None:
        """Record the start, and make this task the current one for logging."""
        trace_id = fields.get("trace_id")
        self._contexts[job_id] = enter_task(TaskContext(job_id, task_name, queue, trace_id))
        self._record("started", job_id, task_name, queue, fields)

    @guarded
    def finished(
        self, type: str, job_id: str, task_name: str, queue: str | None, **fields: Any
    ) -> None:
        """Record `succeeded`, `failed`, `retried`, `expired` or `canceled`; end the context."""
        self._record(type, job_id, task_name, queue, fields)
        self.leave(job_id)

    @guarded
    def leave(self, job_id: str) -> None:
        leave_task(self._contexts.pop(job_id, None))

    def _record(
        self, type: str, job_id: str, task_name: str, queue: str | None, fields: dict[str, Any]
    ) -> None:
        for key in ("args", "kwargs", "result"):
            if key in fields:
                fields[key] = jsonable(fields[key]) if self.record_args else None
        self.client.record(type, str(job_id), task_name, queue, **fields)
