"""How values read on the dashboard: relative times, durations, periods, badge tones."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

DASH = "\u2013"  # an en dash: "no value"
_UNITS = (("d", 86400), ("h", 3600), ("min", 60), ("s", 1))

CHECK_TONES = {
    "up": "ok",
    "new": "muted",
    "running": "info",
    "late": "warn",
    "down": "bad",
    "paused": "muted",
}
TASK_TONES = {
    "success": "ok",
    "failed": "bad",
    "in_progress": "info",
    "queued": "muted",
    "deferred": "muted",
    "retrying": "warn",
    "expired": "warn",
    "canceled": "muted",
}
QUEUE_TONES = ("q0", "q1", "q2", "q3", "q4", "q5", "q6", "q7")


def span(seconds: float, parts: int = 2) -> str:
    """A length of time in its two largest units: '1 h 5 min', '45 s', '3 d'."""
    seconds = abs(seconds)
    if seconds < 1:
        return "0 s"
    words: list[str] = []
    remaining = round(seconds)
    for unit, size in _UNITS:
        if remaining >= size:
            count, remaining = divmod(remaining, size)
            words.append(f"{count} {unit}")
            if len(words) == parts:
                break
        elif words:
            break
    return " ".join(words)


def ago(at: datetime | None, now: datetime | None = None) -> str:
    if at is None:
        return "never"
    delta = ((now or datetime.now(UTC)) - at).total_seconds()
    if abs(delta) < 5:
        return "just now"
    return f"{span(delta, 1)} ago" if delta > 0 else f"in {span(delta, 1)}"


def duration(ms: float | None) -> str:
    if ms is None:
        return DASH
    if ms < 1000:
        return f"{ms:.0f} ms"
    if ms < 60_000:
        return f"{ms / 1000:.1f} s"
    return span(ms / 1000)


def duration_tone(seconds: float | None) -> str:
    """The seed's admin rule: green under 1 s, blue under 5 s, yellow under 30 s, red above."""
    if seconds is None:
        return "muted"
    if seconds < 1:
        return "ok"
    if seconds < 5:
        return "info"
    if seconds < 30:
        return "warn"
    return "bad"


def retries_tone(retries: int | None) -> str:
    if not retries:
        return "muted"
    if retries < 3:
        return "warn"
    return "bad"


def queue_tone(name: str | None) -> str:
    """A stable colour per queue name, so a queue looks the same on every page."""
    if not name:
        return "muted"
    return QUEUE_TONES[sum(name.encode()) % len(QUEUE_TONES)]


def iso(at: datetime | None) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z") if at else ""


def clock(at: datetime | None, tz: str = "UTC") -> str:
    if at is None:
        return DASH
    local = at.astimezone(ZoneInfo(tz))
    return local.strftime("%a %d %b %H:%M:%S ") + (local.tzname() or tz)


def schedule_text(row: Any) -> str:
    if row["kind"] == "cron":
        return f"{row['cron']} ({row['tz']})"
    return f"every {span(row['period_s'])}"


def pretty_json(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return value
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def headline(counts: dict[str, int], open_incidents: int) -> str:
    """The overview's first sentence: what is wrong right now, or that nothing is."""
    parts = []
    if counts.get("down"):
        parts.append(f"{plural(counts['down'], 'check')} down")
    if counts.get("late"):
        parts.append(
            f"{plural(counts['late'], 'check')} late" if not parts else f"{counts['late']} late"
        )
    if open_incidents:
        parts.append(f"{plural(open_incidents, 'open incident')}")
    return ", ".join(parts) if parts else "All systems normal"
