"""Duration histograms: percentiles within 2 % of numpy, merging equals histogramming all."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jobpulse.domain.stats import (
    MAX_DURATION_OCTAVE,
    NO_DURATION_OCTAVE,
    RELATIVE_ACCURACY,
    duration_octave,
    histogram,
    merge,
    octave_upper_bound_ms,
    percentile,
)

durations = st.lists(
    st.floats(min_value=0.01, max_value=1e8, allow_nan=False, allow_infinity=False),
    min_size=1,
    max_size=400,
)


@settings(max_examples=200, deadline=None)
@given(durations, st.sampled_from([0, 1, 25, 50, 90, 95, 99, 100]))
def test_a_percentile_is_within_the_accuracy_of_the_sample_at_its_rank(
    values: list[float], q: float
) -> None:
    expected = float(np.percentile(values, q, method="lower"))
    found = percentile(histogram(values), q)
    assert found == pytest.approx(expected, rel=RELATIVE_ACCURACY * 1.001)


@pytest.mark.parametrize("q", [50, 95, 99])
def test_percentiles_of_a_long_tail_match_numpy_within_two_percent(q: float) -> None:
    rng = np.random.default_rng(3)
    values = np.concatenate([rng.lognormal(3, 1, 50_000), rng.pareto(1.5, 5_000) * 1000])
    assert percentile(histogram(values), q) == pytest.approx(np.percentile(values, q), rel=0.02)


@given(durations, durations)
def test_merged_histograms_equal_one_histogram_of_everything(
    first: list[float], second: list[float]
) -> None:
    assert merge(histogram(first), histogram(second)) == histogram(first + second)


def test_no_values_have_no_percentile() -> None:
    assert percentile({}, 50) is None
    with pytest.raises(ValueError):
        percentile({1: 1}, 101)


any_duration = st.floats(min_value=-1.0, max_value=1e300, allow_nan=False)


@settings(max_examples=500, deadline=None)
@given(any_duration, any_duration)
def test_duration_octaves_never_order_two_durations_the_wrong_way(a: float, b: float) -> None:
    shorter, longer = sorted((a, b))
    assert duration_octave(shorter) <= duration_octave(longer)


@settings(max_examples=500, deadline=None)
@given(st.floats(min_value=2**-10, max_value=2.0**51, exclude_min=True))
def test_a_duration_lies_within_its_octave(duration: float) -> None:
    octave = duration_octave(duration)
    assert octave_upper_bound_ms(octave - 1) < duration <= octave_upper_bound_ms(octave)


@pytest.mark.parametrize(
    ("duration", "octave"),
    [
        (None, NO_DURATION_OCTAVE),
        (-5.0, 1),
        (0.0, 1),
        (float("nan"), 1),
        (2**-10, 1),
        (1.0, 11),
        (1.0000001, 12),
        (2.0, 12),
        (1500.0, 22),
        (float("inf"), MAX_DURATION_OCTAVE),
    ],
)
def test_duration_octave_edges(duration: float | None, octave: int) -> None:
    assert duration_octave(duration) == octave
