"""The task being run on this thread or asyncio task, set by the integrations.

Read by the logging filter (`jobpulse.sdk.logging`) to label every record.
"""

from __future__ import annotations

from contextvars import ContextVar, Token
from dataclasses import dataclass


@dataclass(frozen=True)
class TaskContext:
    job_id: str
    task_name: str
    queue: str | None = None
    trace_id: str | None = None


current_task: ContextVar[TaskContext | None] = ContextVar("jobpulse_current_task", default=None)


def enter_task(context: TaskContext) -> Token[TaskContext | None]:
    return current_task.set(context)


def leave_task(token: Token[TaskContext | None] | None) -> None:
    if token is None:
        return
    try:
        current_task.reset(token)
    except ValueError:
        # Reset from another context (a hook running elsewhere): just clear it.
        current_task.set(None)
