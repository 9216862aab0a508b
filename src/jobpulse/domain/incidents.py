"""From verdicts to incidents: flap damping, repeats, routing, silences and delivery retries.

Pure: the alert loop loads trackers, routes and silences, asks these functions what to do,
and writes the answer (incident change + outbox rows) in one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from fnmatch import fnmatchcase


class Action(StrEnum):
    OPEN = "open"
    RESOLVE = "resolve"


@dataclass(frozen=True)
class Tracker:
    """What the loop remembers about one (rule, subject) between ticks.

    `firing`: an incident was opened and the condition has not cleared for long enough since.
    `pending_since`: the condition has disagreed with `firing` since then (damping clock).
    """

    firing: bool = False
    pending_since: datetime | None = None


def step(
    tracker: Tracker,
    condition: bool,
    now: datetime,
    hold_fire: timedelta,
    hold_clear: timedelta,
    since: datetime | None = None,
) -> tuple[Tracker, Action | None]:
    """The tracker after observing `condition` at `now`, and the incident action it calls for.

    The condition must disagree with the tracker for `hold_fire` (to open) or `hold_clear`
    (to resolve) without interruption; any agreeing observation resets the clock, so a
    flapping subject inside its damping window produces nothing. `since` (when the facts
    know when the condition began) starts the clock earlier than the first observation.
    """
    if condition == tracker.firing:
        return Tracker(tracker.firing, None), None
    started = tracker.pending_since or min(since or now, now)
    hold = hold_fire if condition else hold_clear
    if now - started >= hold:
        return Tracker(condition, None), Action.OPEN if condition else Action.RESOLVE
    return Tracker(tracker.firing, started), None


def repeat_due(
    severity: str,
    status: str,
    last_notified_at: datetime,
    every: timedelta | None,
    now: datetime,
) -> bool:
    """An open, unacknowledged critical incident is re-notified every `every`."""
    if every is None or every <= timedelta(0):
        return False
    return severity == "critical" and status == "open" and now - last_notified_at >= every


# --- labels, matchers, routes, silences ---------------------------------------------------


@dataclass(frozen=True)
class Labels:
    """What matchers can select on: severity, rule, rule_kind, subject_kind, subject, queue..."""

    values: Mapping[str, str]
    tags: frozenset[str] = frozenset()


def matches(matchers: Mapping[str, str], labels: Labels) -> bool:
    """Every matcher holds; values are globs; the key `tag` matches any of the tags."""
    for key, pattern in matchers.items():
        if key == "tag":
            if not any(fnmatchcase(tag, pattern) for tag in labels.tags):
                return False
        elif not fnmatchcase(labels.values.get(key, ""), pattern):
            return False
    return True


@dataclass(frozen=True)
class Route:
    id: int
    channel_ids: tuple[int, ...]
    severities: frozenset[str] = frozenset()  # empty: any severity
    matchers: Mapping[str, str] | None = None
    is_default: bool = False


def route_channels(
    routes: Iterable[Route], labels: Labels, all_channel_ids: Iterable[int]
) -> tuple[int, ...]:
    """Channels for a notice: every matching route's; else the default route's; with no
    default route at all, every channel (so a fresh install with one channel just works)."""
    routes = list(routes)
    severity = labels.values.get("severity", "")
    chosen: list[int] = []
    for candidate in routes:
        if candidate.is_default:
            continue
        if candidate.severities and severity not in candidate.severities:
            continue
        if matches(candidate.matchers or {}, labels):
            chosen.extend(candidate.channel_ids)
    if not chosen:
        defaults = [r for r in routes if r.is_default]
        if defaults:
            for default in defaults:
                chosen.extend(default.channel_ids)
        else:
            chosen.extend(all_channel_ids)
    return tuple(dict.fromkeys(chosen))


@dataclass(frozen=True)
class Silence:
    """Mutes notices (never incidents) matching `matchers` between starts_at and ends_at."""

    id: int
    matchers: Mapping[str, str]
    starts_at: datetime
    ends_at: datetime

    def active(self, now: datetime) -> bool:
        return self.starts_at <= now < self.ends_at


def silenced_by(silences: Iterable[Silence], labels: Labels, now: datetime) -> int | None:
    """The id of an active silence covering these labels, or None."""
    for silence in silences:
        if silence.active(now) and matches(silence.matchers, labels):
            return silence.id
    return None


# --- delivery -----------------------------------------------------------------------------


def retry_delay(attempt: int, base: timedelta, cap: timedelta) -> timedelta:
    """Exponential backoff after the `attempt`-th failure (1-based): base, 2·base, 4·base..."""
    if attempt < 1:
        raise ValueError("attempt is 1-based")
    delay: timedelta = base * (2 ** min(attempt - 1, 30))
    return min(delay, cap)


def gives_up(attempts: int, max_attempts: int, retryable: bool) -> bool:
    return not retryable or attempts >= max_attempts
