"""The task list's filters: the API's names and meanings, read leniently from a page's URL.

A bad value does not break the page: it is dropped and named in `errors`, the rest applies.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from jobpulse.domain.runs import RunStatus
from jobpulse.store.tasks_queries import ORDERING_FIELDS, TaskFilter

TEXT = ("task_name", "task_name_exact", "queue_name", "job_id", "worker_id", "search")
LISTS = ("queue_name_in", "status_in")
FLAGS = ("is_completed", "is_successful", "is_failed", "has_error")
NUMBERS = ("duration_min", "duration_max", "job_retries_min", "job_retries_max")
TIMES = ("created_after", "created_before")
ALL = (*TEXT, *LISTS, "status", *FLAGS, *NUMBERS, *TIMES)
DEFAULT_ORDERING = "-created_at"
BASIC = ("search", "status", "queue_name")
SORTABLE = ("task_name", "queue_name", "status", "duration_ms", "job_retries", "created_at")


@dataclass
class TaskQuery:
    where: TaskFilter
    values: dict[str, str]
    ordering: str = DEFAULT_ORDERING
    page: int = 1
    errors: dict[str, str] = field(default_factory=dict)

    def url(self, **changes: Any) -> str:
        """This query string with some parameters changed (None removes one)."""
        params: dict[str, Any] = {**self.values, "ordering": self.ordering, "page": self.page}
        params.update(changes)
        if params.get("ordering") == DEFAULT_ORDERING:
            params.pop("ordering")
        if params.get("page") == 1:
            params.pop("page")
        return "?" + urlencode({k: v for k, v in params.items() if v not in (None, "")})

    def sort_url(self, column: str) -> str:
        """Sort by `column`, newest/largest first; a second click reverses."""
        ordering = column if self.ordering == f"-{column}" else f"-{column}"
        return self.url(ordering=ordering, page=1)

    @property
    def active(self) -> bool:
        return bool(self.values)

    @property
    def uses_more_filters(self) -> bool:
        """Whether a filter beyond the always-visible ones is set (keeps them unfolded)."""
        return bool(self.errors) or any(name not in BASIC for name in self.values)


def _flag(raw: str) -> bool | None:
    return {"true": True, "1": True, "false": False, "0": False}.get(raw.lower())


def _time(raw: str) -> datetime | None:
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def parse(params: dict[str, str]) -> TaskQuery:
    values = {k: params[k].strip() for k in ALL if params.get(k, "").strip()}
    errors: dict[str, str] = {}
    found: dict[str, Any] = {k: values[k][:200] for k in TEXT if k in values}
    statuses = {s.value for s in RunStatus}
    for name in LISTS:
        if name in values:
            parts = tuple(p.strip() for p in values[name].split(",") if p.strip())
            if name == "status_in" and not set(parts) <= statuses:
                errors[name] = "unknown status"
                continue
            found[name] = tuple(RunStatus(p) for p in parts) if name == "status_in" else parts
    if "status" in values:
        if values["status"] in statuses:
            found["status"] = RunStatus(values["status"])
        else:
            errors["status"] = "unknown status"
    for name in FLAGS:
        if name in values:
            flag = _flag(values[name])
            if flag is None:
                errors[name] = "true or false"
            else:
                found[name] = flag
    for name in NUMBERS:
        if name in values:
            try:
                number = float(values[name])
                if number < 0:
                    raise ValueError
            except ValueError:
                errors[name] = "a number, 0 or more"
                continue
            found[name] = int(number) if name.startswith("job_retries") else number
    for name in TIMES:
        if name in values:
            at = _time(values[name])
            if at is None:
                errors[name] = "a date and time like 2026-01-31T12:00"
            else:
                found[name] = at
    ordering = params.get("ordering", DEFAULT_ORDERING)
    if ordering.lstrip("-") not in ORDERING_FIELDS:
        errors["ordering"] = "unknown column"
        ordering = DEFAULT_ORDERING
    raw_page = params.get("page", "1")
    page = int(raw_page) if raw_page.isdigit() and 0 < int(raw_page) <= 100_000 else 1
    clean = {k: v for k, v in values.items() if k not in errors}
    return TaskQuery(TaskFilter(**found), clean, ordering, page, errors)
