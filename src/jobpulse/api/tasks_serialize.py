"""JSON shapes of task runs and attempts (field names as in the seed's TaskLog API)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any

from pydantic import StringConstraints
from sqlalchemy import RowMapping

from jobpulse.domain.runs import STATUS_DISPLAY, RunStatus

# Text from a query or path: PostgreSQL cannot compare with a NUL character, so refuse it.
SafeText = Annotated[str, StringConstraints(pattern=r"^[^\x00]*$")]

_PLAIN = (
    "id",
    "job_id",
    "task_name",
    "queue_name",
    "args",
    "kwargs",
    "status",
    "duration_ms",
    "job_retry",
    "job_retries",
    "job_retry_after",
    "success",
    "result",
    "error_message",
    "worker_id",
    "tags",
    "trace_id",
)
_TIMES = (
    "enqueue_time",
    "expire_time",
    "start_time",
    "finish_time",
    "created_at",
    "updated_at",
)


def iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def run_json(row: RowMapping, *, detail: bool = False) -> dict[str, Any]:
    found: dict[str, Any] = {name: row[name] for name in _PLAIN}
    found.update((name, iso(row[name])) for name in _TIMES)
    found["status_display"] = STATUS_DISPLAY[RunStatus(row["status"])]
    duration = row["duration_ms"]
    found["duration_seconds"] = round(duration / 1000, 6) if duration is not None else None
    found["is_completed"] = row["status"] in ("success", "failed", "expired", "canceled")
    found["fingerprint"] = row["fingerprint"]
    if detail:
        found["traceback"] = row["traceback"]
    return found


def attempt_json(row: Mapping[str, Any]) -> dict[str, Any]:
    started, finished = row["started_at"], row["finished_at"]
    duration = (finished - started).total_seconds() * 1000 if started and finished else None
    return {
        "attempt": row["number"],
        "queued_at": iso(row["queued_at"]),
        "started_at": iso(started),
        "finished_at": iso(finished),
        "duration_ms": duration,
        "outcome": row["outcome"],
        "worker_id": row["worker_id"],
        "error": row["error"],
        "traceback": row["traceback"],
        "result": row["result"],
        "retry_after": row["retry_after"],
    }
