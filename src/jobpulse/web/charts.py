"""Charts drawn as inline SVG on the server: no chart library, no JavaScript needed.

Shapes carry tone classes (`tone-ok`, `tone-bad`, ...) and the stylesheet colours them, so
the charts follow the light and dark themes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from markupsafe import Markup, escape

_BAR_STEP = 10.0
DASH = "\u2013"
_BAR_WIDTH = 7.0


@dataclass(frozen=True)
class Bar:
    value: float
    tone: str
    title: str = ""


@dataclass(frozen=True)
class Segment:
    """A stretch of a timeline in one state, as fractions of the whole width."""

    start: float
    end: float
    tone: str
    title: str


def _svg(width: float, height: float, body: str, label: str, css: str) -> Markup:
    return Markup(
        f'<svg class="{css}" viewBox="0 0 {width:.0f} {height:.0f}" preserveAspectRatio="none" '
        f'role="img" aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg">'
        f"{body}</svg>"
    )


def _title(text: str) -> str:
    return f"<title>{escape(text)}</title>" if text else ""


def sparkline(values: Sequence[float | None], label: str = "trend") -> Markup:
    """A small line of recent values (oldest first); empty when fewer than two values."""
    known = [v for v in values if v is not None]
    if len(known) < 2:
        return Markup(f'<span class="spark-empty" aria-hidden="true">{DASH}</span>')
    width, height, pad = 100.0, 24.0, 2.0
    top = max(known) or 1.0
    step = width / (len(known) - 1)
    points = [
        (i * step, height - pad - (v / top) * (height - 2 * pad)) for i, v in enumerate(known)
    ]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    area = f"0,{height} {path} {width},{height}"
    body = (
        f'<polygon class="spark-area" points="{area}"/>'
        f'<polyline class="spark-line" points="{path}" vector-effect="non-scaling-stroke"/>'
    )
    return _svg(width, height, body, label, "sparkline")


def bar_chart(bars: Sequence[Bar], label: str, height: float = 100.0, slots: int = 0) -> Markup:
    """One bar per value, scaled to the largest; each bar has a tooltip.

    With `slots`, a few bars keep a readable width and sit at the right (the latest end).
    """
    count = max(len(bars), slots, 1)
    width = count * _BAR_STEP
    top = max((b.value for b in bars), default=0.0) or 1.0
    shapes = []
    for i, bar in enumerate(bars, start=count - len(bars)):
        h = max(bar.value / top * (height - 2), 1.0 if bar.value > 0 else 0.0)
        shapes.append(
            f'<rect class="tone-{bar.tone}" x="{i * _BAR_STEP + 1.5:.1f}" y="{height - h:.1f}" '
            f'width="{_BAR_WIDTH}" height="{h:.1f}" rx="1.5">{_title(bar.title)}</rect>'
        )
    baseline = (
        f'<line class="axis" x1="0" y1="{height}" x2="{width}" y2="{height}" '
        'vector-effect="non-scaling-stroke"/>'
    )
    return _svg(width, height, "".join(shapes) + baseline, label, "chart")


def stacked_chart(buckets: Sequence[Sequence[Bar]], label: str, height: float = 100.0) -> Markup:
    """Bars made of stacked parts (e.g. succeeded and failed runs per hour)."""
    width = max(len(buckets), 1) * _BAR_STEP
    top = max((sum(p.value for p in parts) for parts in buckets), default=0.0) or 1.0
    shapes = []
    for i, parts in enumerate(buckets):
        y = height
        for part in parts:
            if part.value <= 0:
                continue
            h = part.value / top * (height - 2)
            y -= h
            shapes.append(
                f'<rect class="tone-{part.tone}" x="{i * _BAR_STEP + 1.5:.1f}" y="{y:.1f}" '
                f'width="{_BAR_WIDTH}" height="{h:.1f}">{_title(part.title)}</rect>'
            )
    baseline = (
        f'<line class="axis" x1="0" y1="{height}" x2="{width}" y2="{height}" '
        'vector-effect="non-scaling-stroke"/>'
    )
    return _svg(width, height, "".join(shapes) + baseline, label, "chart")


def line_chart(
    values: Sequence[float | None], label: str, top: float = 100.0, height: float = 100.0
) -> Markup:
    """A line over evenly spaced points (None leaves a gap), e.g. a success rate in %."""
    width = max(len(values) - 1, 1) * _BAR_STEP
    runs: list[list[tuple[float, float]]] = [[]]
    for i, value in enumerate(values):
        if value is None:
            runs.append([])
            continue
        runs[-1].append((i * _BAR_STEP, height - min(value, top) / top * (height - 4) - 2))
    body = []
    for run in runs:
        if not run:
            continue
        if len(run) == 1:
            x, y = run[0]
            run = [(x - 2, y), (x + 2, y)]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in run)
        body.append(
            f'<polygon class="line-area" points="{run[0][0]:.1f},{height} {path} '
            f'{run[-1][0]:.1f},{height}"/>'
            f'<polyline class="line" points="{path}" vector-effect="non-scaling-stroke"/>'
        )
    grid = "".join(
        f'<line class="grid" x1="0" y1="{height * f:.1f}" x2="{width}" y2="{height * f:.1f}" '
        'vector-effect="non-scaling-stroke"/>'
        for f in (0.25, 0.5, 0.75)
    )
    return _svg(width, height, grid + "".join(body), label, "chart")


def status_band(segments: Sequence[Segment], label: str) -> Markup:
    """A horizontal band coloured by state over a time window (a check's recent history)."""
    width, height = 1000.0, 10.0
    body = "".join(
        f'<rect class="tone-{s.tone}" x="{s.start * width:.1f}" y="0" '
        f'width="{max((s.end - s.start) * width, 0.5):.1f}" height="{height}">'
        f"{_title(s.title)}</rect>"
        for s in segments
    )
    return _svg(width, height, body, label, "band")


def band_segments(
    changes: Sequence[tuple[datetime, str]], start: datetime, end: datetime, tones: dict[str, str]
) -> list[Segment]:
    """Segments of a window from (time, new state) changes, oldest first.

    The state before the first change inside the window is the last change before it, if any.
    """
    total = (end - start).total_seconds() or 1.0
    before = [state for at, state in changes if at <= start]
    state = before[-1] if before else None
    cursor = start
    segments: list[Segment] = []
    for at, new_state in changes:
        if at <= start:
            continue
        at = min(at, end)
        if state is not None:
            segments.append(_segment(cursor, at, state, start, total, tones))
        state, cursor = new_state, at
    if state is not None:
        segments.append(_segment(cursor, end, state, start, total, tones))
    return segments


def _segment(
    begin: datetime,
    end: datetime,
    state: str,
    origin: datetime,
    total: float,
    tones: dict[str, str],
) -> Segment:
    return Segment(
        (begin - origin).total_seconds() / total,
        (end - origin).total_seconds() / total,
        tones.get(state, "muted"),
        f"{state} from {begin:%d %b %H:%M} to {end:%d %b %H:%M} UTC",
    )
