"""Log lines: JSON or text, with context, and never a secret."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from jobpulse.telemetry.logs import log_context, make_handler, redact


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("key jp_AbCdEfGhIjKlMnOpQrStUv012345 used", "jp_AbCdEfGhIjKlMnOpQrStUv012345"),
        ("Authorization: Bearer s3cr3t-token.value", "s3cr3t-token.value"),
        ("postgresql://jobpulse:hunter2@db:5432/jobpulse", "hunter2"),
        ("connect password=hunter2 host=db", "hunter2"),
        ('{"api_key": "abc123def"}', "abc123def"),
    ],
)
def test_redact_masks_keys_tokens_and_passwords(text: str, secret: str) -> None:
    assert secret not in redact(text)


def test_redact_leaves_ordinary_text_alone() -> None:
    text = "GET /api/v1/checks 200 in 3 ms"
    assert redact(text) == text


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    logger = logging.getLogger("jobpulse.test_logs")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    yield logger, stream
    logger.handlers.clear()


def test_json_lines_carry_the_context_and_the_error_without_secrets(
    captured: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = captured
    logger.addHandler(make_handler("json", stream))
    with log_context(request_id="req-1", project="3", check="nightly"):
        try:
            raise ValueError("could not use jp_AbCdEfGhIjKlMnOpQrStUv012345")
        except ValueError:
            logger.exception("ping failed for key %s", "jp_ZyXwVuTsRqPoNmLkJiHg98765")
    logger.info("outside")
    first, second = (json.loads(line) for line in stream.getvalue().splitlines() if line)
    assert first["request_id"] == "req-1" and first["project"] == "3"
    assert first["check"] == "nightly" and first["level"] == "error"
    assert "ValueError" in first["error"]
    assert "jp_AbCd" not in stream.getvalue() and "jp_ZyX" not in stream.getvalue()
    assert "request_id" not in second


def test_text_lines_are_one_readable_line_with_key_values(
    captured: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = captured
    logger.addHandler(make_handler("text", stream))
    with log_context(request_id="req-2", task="reports.build"):
        logger.warning("slow")
    line = stream.getvalue().strip()
    assert "warning" in line and "slow" in line
    assert "request_id=req-2" in line and "task=reports.build" in line
