"""The check form: from posted strings to the API's validated fields, and back for editing."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import RowMapping

from jobpulse.api.checks import CheckCreate
from jobpulse.domain.schedule import Schedule, ScheduleError, ScheduleKind

UNITS = {"s": 1, "min": 60, "h": 3600, "d": 86400}
_DURATIONS = ("period", "grace", "max_runtime")
# The inputs that make a schedule (what the live preview needs).
SCHEDULE_INPUTS = frozenset(
    {"kind", "schedule", "tz"} | {f"{d}_{p}" for d in _DURATIONS for p in ("value", "unit")}
)


@dataclass
class CheckForm:
    """What the user typed (kept to re-show the form) and what was wrong with it."""

    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)


def best_unit(seconds: float | None) -> tuple[str, str]:
    """(number, unit) that shows a duration without fractions when possible: 3600 → 1 h."""
    if seconds is None:
        return "", "min"
    for unit in ("d", "h", "min"):
        if seconds >= UNITS[unit] and seconds % UNITS[unit] == 0:
            return f"{seconds / UNITS[unit]:g}", unit
    return f"{seconds:g}", "s"


def form_from_row(row: RowMapping) -> CheckForm:
    values = {
        "name": row["name"],
        "slug": row["slug"] or "",
        "tags": " ".join(row["tags"] or []),
        "description": row["description"],
        "kind": row["kind"],
        "schedule": row["cron"] or "",
        "tz": row["tz"],
    }
    for name, column in zip(_DURATIONS, ("period_s", "grace_s", "max_runtime_s"), strict=True):
        values[f"{name}_value"], values[f"{name}_unit"] = best_unit(row[column])
    return CheckForm(values)


def blank_form() -> CheckForm:
    values = {
        "name": "",
        "slug": "",
        "tags": "",
        "description": "",
        "kind": "simple",
        "schedule": "0 * * * *",
        "tz": "UTC",
        "period_value": "1",
        "period_unit": "d",
        "grace_value": "1",
        "grace_unit": "h",
        "max_runtime_value": "",
        "max_runtime_unit": "min",
    }
    return CheckForm(values)


def _seconds(values: dict[str, str], name: str, errors: dict[str, str]) -> float | None:
    raw = values.get(f"{name}_value", "").strip()
    if not raw:
        return None
    unit = values.get(f"{name}_unit", "s")
    try:
        number = float(raw)
    except ValueError:
        errors[name] = "must be a number"
        return None
    if unit not in UNITS:
        errors[name] = "unknown unit"
        return None
    return number * UNITS[unit]


def parse(posted: dict[str, Any]) -> tuple[CheckForm, dict[str, Any]]:
    """The form as typed, and the API fields it means (only valid when form.errors is empty)."""
    names = ("name", "slug", "tags", "description", "kind", "schedule", "tz")
    values = {k: str(posted.get(k, "")).strip() for k in names}
    for name in _DURATIONS:
        for part in ("value", "unit"):
            values[f"{name}_{part}"] = str(posted.get(f"{name}_{part}", "")).strip()
    form = CheckForm(values)
    fields: dict[str, Any] = {
        "name": values["name"],
        "slug": values["slug"] or None,
        "tags": [t for t in re.split(r"[\s,]+", values["tags"]) if t],
        "description": values["description"],
        "kind": values["kind"] or "simple",
        "schedule": values["schedule"] or None,
        "tz": values["tz"] or "UTC",
        "max_runtime": _seconds(values, "max_runtime", form.errors),
    }
    for name in ("period", "grace"):
        seconds = _seconds(values, name, form.errors)
        if seconds is None and name not in form.errors:
            form.errors[name] = "required"
        fields[name] = seconds
    if fields["kind"] == "simple":
        fields["schedule"] = None
    if form.errors:
        return form, fields
    try:
        CheckCreate.model_validate(fields)
        schedule_from(fields)
    except ValidationError as exc:
        for error in exc.errors():
            form.errors[str(error["loc"][0]) if error["loc"] else "name"] = error["msg"]
    except ScheduleError as exc:
        form.errors[exc.field] = exc.reason
    return form, fields


def schedule_from(fields: dict[str, Any]) -> Schedule:
    max_runtime = fields.get("max_runtime")
    return Schedule(
        kind=ScheduleKind(fields["kind"]),
        period=timedelta(seconds=fields["period"] or 0),
        grace=timedelta(seconds=fields["grace"] or 0),
        cron=fields.get("schedule"),
        tz=fields.get("tz") or "UTC",
        max_runtime=timedelta(seconds=max_runtime) if max_runtime is not None else None,
    )
