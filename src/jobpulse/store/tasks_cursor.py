"""Cursors for deep paging of the task list: the ordering value and id of a page's last row."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import RowMapping


class BadCursor(ValueError):
    """The cursor was not made by this server for this ordering."""


def _encode_value(value: Any) -> Any:
    return {"t": value.timestamp()} if isinstance(value, datetime) else value


def _decode_value(value: Any) -> Any:
    if isinstance(value, dict) and "t" in value:
        return datetime.fromtimestamp(float(value["t"]), tz=UTC)
    return value


def make_cursor(ordering: str, row: RowMapping) -> str:
    name = ordering.lstrip("-")
    payload = {"o": ordering, "v": _encode_value(row[name]), "id": row["id"]}
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


def read_cursor(cursor: str, ordering: str) -> tuple[Any, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        payload = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if payload["o"] != ordering:
            raise BadCursor("the cursor was made for another ordering")
        return _decode_value(payload["v"]), int(payload["id"])
    except (ValueError, KeyError, TypeError) as exc:
        raise BadCursor(str(exc) if isinstance(exc, BadCursor) else "malformed cursor") from None
