"""SDK pieces without I/O: the logging filter and formatter, guarded hooks, jsonable copies."""

from __future__ import annotations

import json
import logging

import pytest

from jobpulse.sdk.context import TaskContext, current_task, enter_task, leave_task
from jobpulse.sdk.logging import JsonLinesFormatter, TaskContextFilter
from jobpulse.sdk.recorder import error_fields
from jobpulse.sdk.safety import guarded, jsonable


def _record(message: str = "hello %s", args: tuple[object, ...] = ("world",)) -> logging.LogRecord:
    return logging.LogRecord("app", logging.INFO, __file__, 1, message, args, None)


def test_log_records_carry_the_current_task_and_none_outside_one() -> None:
    outside = _record()
    TaskContextFilter().filter(outside)
    assert outside.job_id is None  # type: ignore[attr-defined]

    token = enter_task(TaskContext("j-1", "reports.build", "default", "trace-9"))
    try:
        inside = _record()
        TaskContextFilter().filter(inside)
    finally:
        leave_task(token)
    assert (inside.job_id, inside.task_name, inside.queue, inside.trace_id) == (  # type: ignore[attr-defined]
        "j-1",
        "reports.build",
        "default",
        "trace-9",
    )
    assert current_task.get() is None


def test_the_formatter_writes_one_json_object_per_line_with_extras() -> None:
    record = _record()
    TaskContextFilter().filter(record)
    record.customer = 42
    line = JsonLinesFormatter().format(record)
    assert "\n" not in line
    parsed = json.loads(line)
    assert parsed["message"] == "hello world"
    assert parsed["level"] == "INFO"
    assert parsed["customer"] == 42
    assert parsed["job_id"] is None
    assert parsed["ts"].endswith("+00:00")


def test_the_formatter_includes_the_exception() -> None:
    try:
        raise KeyError("missing")
    except KeyError:
        import sys

        record = logging.LogRecord("app", logging.ERROR, __file__, 1, "oops", (), sys.exc_info())
    assert "KeyError" in json.loads(JsonLinesFormatter().format(record))["exc_info"]


def test_a_guarded_hook_logs_its_error_instead_of_raising(caplog: pytest.LogCaptureFixture) -> None:
    @guarded
    def broken_hook() -> None:
        raise RuntimeError("sdk bug")

    assert broken_hook() is None
    assert "sdk bug" in caplog.text


def test_jsonable_keeps_plain_data_and_shortens_the_rest() -> None:
    class Opaque:
        def __repr__(self) -> str:
            return "<Opaque>"

    assert jsonable({"a": [1, 2.5, None, True], "b": (3,)}) == {"a": [1, 2.5, None, True], "b": [3]}
    assert jsonable(Opaque()) == "<Opaque>"
    assert len(jsonable(list(range(100)))) == 20
    assert jsonable("x" * 5000).endswith("…")
    assert jsonable([[[[["deep"]]]]]) == [[["[['deep']]"]]]


def test_error_fields_name_the_type_and_keep_the_traceback() -> None:
    try:
        raise ValueError("bad input")
    except ValueError as error:
        fields = error_fields(error)
    assert fields["error"] == "ValueError: bad input"
    assert "raise ValueError" in fields["traceback"]
    assert error_fields(None) == {}
