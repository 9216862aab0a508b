"""Logging as JSON lines (default) or plain text, with request context and no secrets.

Context (request id, project, check, task) lives in context variables: the request
middleware sets the request id, handlers add what they know with `log_context(...)`, and
every record logged meanwhile carries it. Secrets never reach the output: API keys, bearer
tokens and URL passwords are masked by a filter on every handler, whatever logged them.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from datetime import UTC, datetime
from typing import Any, Literal, TextIO

LogFormat = Literal["json", "text"]
LOG_FORMATS: tuple[LogFormat, ...] = ("json", "text")

CONTEXT_FIELDS = ("request_id", "project", "check", "task")
_context: ContextVar[dict[str, str]] = ContextVar("jobpulse_log_context", default={})  # noqa: B039

# uvicorn's loggers propagate to ours so that one format covers the whole process.
THIRD_PARTY_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "alembic")

_SECRET_PATTERNS = (
    # jobpulse API keys (jp_ + urlsafe token)
    (re.compile(r"\bjp_[A-Za-z0-9_-]{8,}"), "jp_***"),
    (re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]+"), r"\1 ***"),
    (
        re.compile(
            r"(?i)\b(x-api-key|api[_-]?key|token|secret|password|passwd)(\"?\s*[:=]\s*\"?)[^\s\",;&]+"
        ),
        r"\1\2***",
    ),
    # scheme://user:password@host
    (re.compile(r"(\b[a-z][a-z0-9+.-]*://[^:/\s@]*:)[^@\s/]+@"), r"\1***@"),
)


def redact(text: str) -> str:
    """The text with API keys, tokens and URL passwords masked."""
    for pattern, replacement in _SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def current_context() -> dict[str, str]:
    return dict(_context.get())


@contextmanager
def log_context(**fields: str | None) -> Iterator[None]:
    """Attach fields (request_id, project, check, task, ...) to records logged inside."""
    token = push_context(fields)
    try:
        yield
    finally:
        _context.reset(token)


def push_context(fields: dict[str, str | None]) -> Token[dict[str, str]]:
    """`log_context` without the context manager, for hot paths: reset with `pop_context`."""
    merged = _context.get().copy()
    for key, value in fields.items():
        if value is not None:
            merged[key] = str(value)
    return _context.set(merged)


def pop_context(token: Token[dict[str, str]]) -> None:
    _context.reset(token)


def bind(**fields: str | None) -> None:
    """Add fields to the current context until it ends (e.g. the rest of a request)."""
    _context.set({**_context.get(), **{k: str(v) for k, v in fields.items() if v is not None}})


class RedactingFilter(logging.Filter):
    """Renders the message once, masks secrets in it and in the exception text."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = redact(record.getMessage())
        record.msg, record.args = message, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        record.exc_info = None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, message, context fields, error."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(current_context())
        for name, value in getattr(record, "fields", {}).items():
            entry[name] = value
        if record.exc_text:
            entry["error"] = record.exc_text
        return json.dumps(entry, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """`ts level logger: message key=value ...` for people reading a terminal."""

    def format(self, record: logging.LogRecord) -> str:
        ts = datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="seconds")
        fields = {**current_context(), **getattr(record, "fields", {})}
        extras = "".join(f" {k}={v}" for k, v in fields.items())
        line = f"{ts} {record.levelname.lower():7} {record.name}: {record.getMessage()}{extras}"
        if record.exc_text:
            line += "\n" + record.exc_text
        return line


def make_handler(log_format: LogFormat, stream: TextIO | None = None) -> logging.Handler:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    handler.addFilter(RedactingFilter())
    return handler


def configure_logging(
    log_format: LogFormat = "json", level: str = "info", stream: TextIO | None = None
) -> None:
    """Route the root logger and uvicorn's loggers through one redacting handler."""
    if log_format not in LOG_FORMATS:
        raise ValueError(f"log format must be one of {', '.join(LOG_FORMATS)}")
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(make_handler(log_format, stream))
    root.setLevel(level.upper())
    for name in THIRD_PARTY_LOGGERS:
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
        logger.setLevel(level.upper())


def fields(**values: Any) -> dict[str, Any]:
    """`log.info("...", extra=fields(status=200))`: structured fields for one record."""
    return {"fields": values}
