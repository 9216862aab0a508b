"""Fixtures of the group-commit writer's tests on a real SQLite file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from jobpulse.store.db import make_engine
from jobpulse.store.writer import GroupCommitWriter


@pytest.fixture
def sqlite_database(tmp_path: Path) -> Path:
    return tmp_path / "writer.db"


@pytest.fixture
def sqlite_writer(sqlite_database: Path) -> Iterator[GroupCommitWriter]:
    """A started writer on `sqlite_database`, stopped after the test."""
    engine = make_engine(f"sqlite:///{sqlite_database}")
    node = GroupCommitWriter(engine)
    node.start()
    yield node
    node.stop()
    engine.dispose()
