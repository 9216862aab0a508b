"""Engine creation, per-dialect connection settings and Alembic migrations."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def normalise_url(url: str) -> str:
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the driver, decide where transactions begin.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # FULL: a commit is on disk before we answer 2xx; group commit pays one fsync per batch.
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def bind_none_and_bool_directly() -> None:
    """Python's sqlite3 binds an exact int, float, str or bytearray at once; any other value
    (None, True, False) goes through its adapter registry first, and a type without an
    adapter then costs two attribute lookups more per value: 0.1-0.2 us each, 7 % of the
    writer's time on a task log whose rows hold a dozen NULLs. A registered adapter is found
    by the first lookup. Both are C functions that give what SQLite stored anyway: None
    (NULL) for None, 1 and 0 for True and False. Process-wide, and the same every time."""
    sqlite3.register_adapter(type(None), {}.get)  # {}.get(None) is None
    sqlite3.register_adapter(bool, int)


def _sqlite_begin(conn: Any) -> None:
    # Writers ask for IMMEDIATE: the write lock up front, so a read-then-write transaction
    # never fails on a lock upgrade when another process wrote in between.
    immediate = conn.get_execution_options().get("sqlite_immediate", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def sqlite_file(engine: Engine) -> str | None:
    """The absolute path of a SQLite engine's database file; None for memory or PostgreSQL."""
    database = engine.url.database or ""
    if engine.dialect.name != "sqlite" or database in ("", ":memory:"):
        return None
    return os.path.abspath(database)


def make_engine(url: str, *, pool_size: int = 10) -> Engine:
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:":
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 10},
            pool_size=pool_size,
            max_overflow=20,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        bind_none_and_bool_directly()
        return engine
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=20,
        pool_pre_ping=True,
        # No server-side prepared statements: after five runs of a statement psycopg would
        # prepare it, and PostgreSQL would then reuse one generic plan for every parameter.
        # The task log is skewed (one task has half the runs, another a few hundred), and a
        # generic plan for "one task, newest first" took 112 ms at p95 where a plan for the
        # task asked took 12 ms. Planning each statement costs far less than that.
        connect_args={"prepare_threshold": None},
    )


def _alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revisions (safe to run on every start).

    Each area (checks, tasks, queues, alerts, users) owns a branch of revisions rooted at
    0001, so "heads" means the newest revision of every branch.
    """
    command.upgrade(_alembic_config(engine), "heads")


def head_revisions(engine: Engine) -> set[str]:
    return set(ScriptDirectory.from_config(_alembic_config(engine)).get_heads())


def current_revisions(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return set(MigrationContext.configure(conn).get_current_heads())
