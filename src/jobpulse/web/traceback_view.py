"""A Python traceback split into classed lines, so the page can highlight it."""

from __future__ import annotations

import re
from dataclasses import dataclass

_FILE_LINE = re.compile(r'^\s*File "')
# "ValueError: ...", "billing.gateway.CardDeclined: ...", or a bare "KeyboardInterrupt".
_ERROR_LINE = re.compile(r"^[A-Za-z_][\w.]*(: |$)")


@dataclass(frozen=True)
class TracebackLine:
    text: str
    kind: str  # "file", "code", "error" or "plain"


def highlight(traceback: str | None) -> list[TracebackLine]:
    if not traceback:
        return []
    lines: list[TracebackLine] = []
    previous = "plain"
    for text in traceback.rstrip("\n").splitlines():
        if _FILE_LINE.match(text):
            kind = "file"
        elif previous == "file" and text.startswith("    "):
            kind = "code"
        elif not text.startswith((" ", "Traceback")) and _ERROR_LINE.match(text):
            kind = "error"
        else:
            kind = "plain"
        lines.append(TracebackLine(text, kind))
        previous = kind
    return lines


def error_type(lines: list[TracebackLine]) -> str:
    """The exception's class as the traceback's last error line names it, or ""."""
    errors = [line.text for line in lines if line.kind == "error"]
    return errors[-1].split(":", 1)[0] if errors else ""
