"""The group-commit writer keeps one connection between batches, and replaces it when it
breaks: on SQLite and on the real PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.exc import IntegrityError

from jobpulse.store.db import make_engine, normalise_url
from jobpulse.store.writer import CONFLICT_ATTEMPTS, GroupCommitWriter


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


class ConflictingAtFirst:
    """Meets a real unique violation on its first `conflicts` calls, as a writer does when
    another node's writer has just stored the same new key; then inserts its arguments."""

    def __init__(self, conflicts: int) -> None:
        self.conflicts = conflicts
        self.calls = 0

    def __call__(self, conn: Connection, arguments: Sequence[Any]) -> list[Any]:
        self.calls += 1
        conn.execute(text("CREATE TABLE IF NOT EXISTS taken (key INTEGER PRIMARY KEY)"))
        conn.execute(text("INSERT INTO taken VALUES (1) ON CONFLICT DO NOTHING"))
        if self.calls <= self.conflicts:
            conn.execute(text("INSERT INTO taken VALUES (1)"))
        return Insert()(conn, arguments)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_conflict_with_another_writer_is_tried_again(
    writer: GroupCommitWriter, engine: Engine
) -> None:
    handler = ConflictingAtFirst(conflicts=CONFLICT_ATTEMPTS - 1)
    writer.run_sync(handler, "stored")
    assert handler.calls == CONFLICT_ATTEMPTS and stored(engine) == ["stored"]
    endless = ConflictingAtFirst(conflicts=100)
    with pytest.raises(IntegrityError):  # a lasting one still reaches its caller
        writer.run_sync(endless, "never")
    assert stored(engine) == ["stored"]
