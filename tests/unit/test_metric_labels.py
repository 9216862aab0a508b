"""Label capping: the busiest names keep their series, every other name becomes `other`."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from jobpulse.telemetry.world import OTHER, kept_names, label_of

counts_strategy = st.dictionaries(st.text(min_size=1, max_size=8), st.integers(0, 1000))


@given(counts_strategy, st.integers(1, 20))
def test_at_most_limit_names_are_kept_and_they_are_the_busiest(
    counts: dict[str, int], limit: int
) -> None:
    kept = kept_names({k: float(v) for k, v in counts.items()}, limit)
    assert len(kept) == min(limit, len(counts))
    dropped = set(counts) - kept
    if kept and dropped:
        assert min(counts[k] for k in kept) >= max(counts[k] for k in dropped)


@given(counts_strategy, st.integers(1, 20))
def test_labels_take_at_most_limit_plus_one_values(counts: dict[str, int], limit: int) -> None:
    kept = kept_names({k: float(v) for k, v in counts.items()}, limit)
    labels = {label_of(name, kept) for name in counts}
    assert len(labels) <= limit + 1
    assert labels <= kept | {OTHER}


def test_a_missing_name_is_other() -> None:
    assert label_of(None, {"a"}) == OTHER
