"""Leadership by PostgreSQL advisory lock: one holder at a time, free when its session ends."""

from __future__ import annotations

import pytest

from jobpulse.engine.leader import LeaderLock
from jobpulse.store.db import make_engine


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_one_lock_holder_at_a_time_and_the_next_takes_over_on_release(database_url: str) -> None:
    engine = make_engine(database_url)
    first, second, probes = LeaderLock(engine), LeaderLock(engine), LeaderLock(engine, "probes")
    try:
        assert first.holds() and first.holds()
        assert not second.holds()
        assert probes.holds()  # another role, another lock
        first.release()
        assert second.holds() and not first.holds()
    finally:
        for lock in (first, second, probes):
            lock.release()
        engine.dispose()


def test_on_sqlite_the_single_node_always_leads(tmp_path: object) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/one.db")
    assert LeaderLock(engine).holds() and LeaderLock(engine).holds()
    engine.dispose()
