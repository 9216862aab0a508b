"""Structured logging: label every record with the current task, and emit JSON lines.

handler = logging.StreamHandler()
handler.addFilter(TaskContextFilter())
handler.setFormatter(JsonLinesFormatter())
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from jobpulse.sdk.context import current_task

TASK_FIELDS = ("job_id", "task_name", "queue", "trace_id")
_STANDARD_ATTRIBUTES = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys() | {"message", "asctime"}
)


class TaskContextFilter(logging.Filter):
    """Adds job_id, task_name, queue and trace_id (None outside a task) to each record."""

    def filter(self, record: logging.LogRecord) -> bool:
        task = current_task.get()
        for field in TASK_FIELDS:
            if not hasattr(record, field):
                setattr(record, field, getattr(task, field) if task else None)
        return True


class JsonLinesFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, task fields, extras, exc."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRIBUTES and not key.startswith("_"):
                line[key] = value
        if record.exc_info:
            line["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)


def install(logger: logging.Logger | None = None, level: int = logging.INFO) -> logging.Handler:
    """Add a stderr handler with the filter and the JSON formatter to `logger` (root)."""
    handler = logging.StreamHandler()
    handler.addFilter(TaskContextFilter())
    handler.setFormatter(JsonLinesFormatter())
    target = logger or logging.getLogger()
    target.addHandler(handler)
    target.setLevel(level)
    return handler
