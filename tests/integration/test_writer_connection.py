"""The group-commit writer keeps one connection between batches, and replaces it when it
breaks: on SQLite and on the real PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, create_engine, text

from jobpulse.store.db import make_engine, normalise_url
from jobpulse.store.writer import GroupCommitWriter


class Insert:
    """Inserts its arguments and answers with the id of the database session that did it."""

    def __call__(self, conn: Connection, arguments: Sequence[Any]) -> list[Any]:
        conn.execute(text("CREATE TABLE IF NOT EXISTS seen (value TEXT)"))
        conn.execute(text("INSERT INTO seen VALUES (:v)"), [{"v": a} for a in arguments])
        if conn.dialect.name == "postgresql":
            session = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        else:
            session = id(conn.connection.dbapi_connection)
        return [session for _ in arguments]


class Failing:
    def __call__(self, conn: Connection, arguments: Sequence[Any]) -> list[Any]:
        conn.execute(text("INSERT INTO seen VALUES ('never')"))
        raise RuntimeError("the handler failed")


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def writer(engine: Engine) -> Iterator[GroupCommitWriter]:
    node = GroupCommitWriter(engine)
    node.start()
    yield node
    node.stop()


def stored(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return sorted(conn.execute(text("SELECT value FROM seen")).scalars())


def test_batches_share_the_writers_connection(writer: GroupCommitWriter) -> None:
    sessions = {writer.run_sync(Insert(), f"job {n}") for n in range(5)}
    assert len(sessions) == 1


def test_a_failed_transaction_is_rolled_back_and_the_next_one_commits(
    writer: GroupCommitWriter, engine: Engine
) -> None:
    writer.run_sync(Insert(), "before")
    with pytest.raises(RuntimeError, match="the handler failed"):
        writer.run_sync(Failing(), "x")
    writer.run_sync(Insert(), "after")
    assert stored(engine) == ["after", "before"]


def test_the_writer_replaces_a_connection_the_database_dropped(
    writer: GroupCommitWriter, engine: Engine, database_url: str
) -> None:
    """A PostgreSQL restart or an idle timeout kills the kept connection: the batch that
    finds it dead is retried on a new one, and nothing acknowledged is lost."""
    session = writer.run_sync(Insert(), "first")
    if engine.dialect.name == "postgresql":
        admin = create_engine(normalise_url(database_url), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": session})
        admin.dispose()
    else:
        kept = writer._conn
        assert kept is not None
        dbapi = kept.connection.dbapi_connection
        assert dbapi is not None
        dbapi.close()
    new_session = writer.run_sync(Insert(), "second")
    assert new_session != session
    assert stored(engine) == ["first", "second"]
