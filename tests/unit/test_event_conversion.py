"""Validated events in, domain events out: what POST /api/v1/events hands to ingest."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import orjson
import pytest

from jobpulse.api.events import ERROR_MAX_CHARS, EventIn, OutOfRange, decode_events
from jobpulse.domain.redact import Redactor
from jobpulse.domain.runs import EventType, TaskEvent

FULL = {
    "type": "failed",
    "job_id": "j-1",
    "task_name": "billing.charge",
    "queue": "billing",
    "ts": "2026-11-25T04:30:00.250+01:00",
    "attempt": 2,
    "worker_id": "w-1",
    "args": [1, {"api_key": "k"}],
    "kwargs": {"Password": "p", "amount": 3},
    "result": {"ok": False},
    "error": "E" * (ERROR_MAX_CHARS + 5),
    "traceback": "T" * 120,
    "retries": 1,
    "max_retries": 3,
    "retry_after": 2.5,
    "eta": "2026-11-25T03:31:00",
    "expires": 1795000000,
    "tags": ["a", "b"],
    "trace_id": "t-1",
    "unknown": "ignored",
}


def _converted(raw: dict[str, Any]) -> TaskEvent:
    (item,) = decode_events(orjson.dumps([raw]))
    return item.to_event(Redactor(max_chars=100))


def test_every_field_is_converted_as_the_domain_expects() -> None:
    event = _converted(FULL)
    assert event == TaskEvent(
        type=EventType.FAILED,
        job_id="j-1",
        task_name="billing.charge",
        queue="billing",
        ts=datetime(2026, 11, 25, 3, 30, 0, 250_000, tzinfo=UTC),
        attempt=2,
        worker_id="w-1",
        args=[1, {"api_key": "[redacted]"}],
        kwargs={"Password": "[redacted]", "amount": 3},
        result={"ok": False},
        error="E" * ERROR_MAX_CHARS + "… [5 chars cut]",
        traceback="[… 20 chars cut …]" + "T" * 100,
        retries=1,
        max_retries=3,
        retry_after=2.5,
        eta=datetime(2026, 11, 25, 3, 31, tzinfo=UTC),  # naive means UTC
        expires=datetime.fromtimestamp(1795000000, UTC),
        tags=("a", "b"),
        trace_id="t-1",
    )
    assert all(value.tzinfo is UTC for value in (event.ts, event.eta, event.expires))


def test_the_model_and_the_event_have_the_same_fields() -> None:
    # to_event hands the model's values over as they are: a field added to one side only
    # would be lost, or leave the event without an attribute.
    assert set(EventIn.__struct_fields__) == {f.name for f in fields(TaskEvent)}


def test_defaults_and_absent_values() -> None:
    minimal = {k: FULL[k] for k in ("type", "job_id", "task_name", "queue")}
    event = _converted({**minimal, "ts": 1795000000.5})
    assert event == TaskEvent(
        type=EventType.FAILED,
        job_id="j-1",
        task_name="billing.charge",
        queue="billing",
        ts=datetime.fromtimestamp(1795000000.5, UTC),
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [("ts", "0001-01-01T00:30:00+01:00"), ("eta", "9999-12-31T23:30:00-01:00")],
)
def test_a_datetime_beyond_range_in_utc_names_its_field(field: str, value: str) -> None:
    with pytest.raises(OutOfRange) as raised:
        _converted({**FULL, field: value})
    assert raised.value.field == field


def test_other_offsets_are_converted_exactly() -> None:
    tz = timezone(timedelta(hours=-9, minutes=-30))
    local = datetime(2026, 3, 1, 23, 59, 59, 999_999, tzinfo=tz)
    event = _converted({**FULL, "ts": local.isoformat()})
    assert event.ts == local and event.ts.tzinfo is UTC
