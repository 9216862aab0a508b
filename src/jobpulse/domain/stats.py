"""A mergeable duration histogram with log-scale buckets (the DDSketch idea).

Bucket i holds values in (GAMMA**(i-1), GAMMA**i]; reporting the bucket's midpoint keeps
every percentile within RELATIVE_ACCURACY of a true sample value. Histograms of minutes,
tasks and queues add up bucket by bucket, which is what rollups need.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

RELATIVE_ACCURACY = 0.01
GAMMA = (1 + RELATIVE_ACCURACY) / (1 - RELATIVE_ACCURACY)
_LOG_GAMMA = math.log(GAMMA)
# Durations below a microsecond all share one bucket: nothing measures finer.
MIN_TRACKED_MS = 0.001
MIN_BUCKET = math.ceil(math.log(MIN_TRACKED_MS) / _LOG_GAMMA)


def bucket_of(duration_ms: float) -> int:
    """The index of the bucket a duration falls into."""
    if duration_ms <= MIN_TRACKED_MS or math.isnan(duration_ms):
        return MIN_BUCKET
    return math.ceil(math.log(duration_ms) / _LOG_GAMMA)


def bucket_value(index: int) -> float:
    """The value reported for a bucket: within RELATIVE_ACCURACY of any value in it."""
    if index <= MIN_BUCKET:
        return 0.0
    return 2 * GAMMA**index / (GAMMA + 1)


def histogram(durations: Iterable[float]) -> dict[int, int]:
    counts: dict[int, int] = {}
    for duration in durations:
        index = bucket_of(duration)
        counts[index] = counts.get(index, 0) + 1
    return counts


def merge(*histograms: Mapping[int, int]) -> dict[int, int]:
    merged: dict[int, int] = {}
    for counts in histograms:
        for index, count in counts.items():
            merged[index] = merged.get(index, 0) + count
    return {index: count for index, count in merged.items() if count}


def percentile(counts: Mapping[int, int], q: float) -> float | None:
    """The q-th percentile (0..100) of the values counted, None when there are none.

    Matches the sample at rank floor(q/100 * (n - 1)) within RELATIVE_ACCURACY.
    """
    if not 0 <= q <= 100:
        raise ValueError("q must be between 0 and 100")
    total = sum(count for count in counts.values() if count > 0)
    if total == 0:
        return None
    rank = math.floor(q / 100 * (total - 1))
    seen = 0
    for index in sorted(counts):
        if counts[index] <= 0:
            continue
        seen += counts[index]
        if seen > rank:
            return bucket_value(index)
    raise AssertionError("unreachable: rank below total")


# Runs are indexed by the octave of their duration (1-2 ms, 2-4 ms, ...), not by the duration
# itself: a new run's index entry then lands at the end of one of a few dozen ranges (ids only
# grow) instead of at a random place in a B-tree of millions, which at ten million runs made
# every write batch rewrite thousands of index pages. "Slowest first" reads the octaves in
# order and sorts within one.
NO_DURATION_OCTAVE = 0
MAX_DURATION_OCTAVE = 63
_OCTAVE_OFFSET = 11  # octave 1 holds everything up to 2**-10 ms (about a microsecond)


def octave_upper_bound_ms(octave: int) -> float:
    """The longest duration in an octave (1 <= octave < MAX_DURATION_OCTAVE)."""
    return 2.0 ** (octave - _OCTAVE_OFFSET)


def duration_octave(duration_ms: float | None) -> int:
    """The octave a duration falls into: monotonic in the duration, 0 for no duration.

    Octave o holds durations in (2**(o - 12), 2**(o - 11)] ms; shorter ones (and NaN) are in
    octave 1, longer than 2**51 ms in MAX_DURATION_OCTAVE.
    """
    if duration_ms is None:
        return NO_DURATION_OCTAVE
    if not duration_ms > octave_upper_bound_ms(1):
        return 1
    if duration_ms > octave_upper_bound_ms(MAX_DURATION_OCTAVE - 1):
        return MAX_DURATION_OCTAVE
    # Exact, unlike ceil(log2()): d = m * 2**e with 0.5 <= m < 1, and m == 0.5 is a power of 2.
    mantissa, exponent = math.frexp(duration_ms)
    return exponent - (mantissa == 0.5) + _OCTAVE_OFFSET
