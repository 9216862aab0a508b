"""Planner statistics for the fast-growing tables on PostgreSQL, when autovacuum lags or is off.

PostgreSQL picks indexes from statistics that ANALYZE gathers (autovacuum runs it). A table
without them gets guessed row counts: at ten million runs and no statistics, the list of one
task, newest first, was read through the duration index and 73,000 runs sorted (650 ms to
1.6 s) instead of 51 index entries read in order (0.5 ms). So every minute a node checks the
task log and ping tables and runs ANALYZE on any whose changes since its last analysis exceed
autovacuum's own default rule (50 rows + 10 %). With autovacuum on, it has normally done so
already and this finds nothing to do. One node at a time (an advisory lock); SQLite's
planner needs no statistics for these queries.

Likewise VACUUM, by autovacuum's default rules for inserted and dead rows: it keeps the
visibility map, without which an index-only scan reads the table too. With autovacuum off,
counting the runs of one task at ten million runs (10,001 index entries, `count` of a list)
read as many table rows: p95 of that list 180 ms, 19 ms once vacuumed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import Connection, Engine, text

from jobpulse.engine.loop import PeriodicLoop

log = logging.getLogger(__name__)

TABLES = (
    "task_runs",
    "task_attempts",
    "task_rollups",
    "task_rollup_durations",
    "task_project_durations",
    "pings",
    "flips",
)
CHECK_INTERVAL_SECONDS = 60.0
_THRESHOLD_ROWS = 50
_THRESHOLD_FRACTION = 0.1
# autovacuum_vacuum_threshold / _scale_factor and their insert_ counterparts. A stricter
# insert rule would keep more of the newest rows (what lists read first) all-visible: at
# 2 %, lists right after 10 M runs were at p95 28 ms instead of 37-55, but a VACUUM ran
# every minute of the ingest and cost a fifth of its rate (benchmarks/README.md).
_DEAD_ROWS, _DEAD_FRACTION = 50, 0.2
_INSERTED_ROWS, _INSERTED_FRACTION = 1000, 0.2
_LOCK_KEY = 0x6A70_7374  # "jpst": one node analyses or vacuums at a time


def _counters(conn: Connection, tables: tuple[str, ...], columns: str) -> Iterable[tuple[Any, ...]]:
    """(relname, n_live_tup, *columns) of each of `tables` in the current schema."""
    return conn.execute(
        text(
            f"SELECT relname, n_live_tup, {columns} FROM pg_stat_user_tables "
            "WHERE schemaname = current_schema() AND relname = ANY(:names) ORDER BY relname"
        ),
        {"names": list(tables)},
    )


def stale_tables(conn: Connection, tables: tuple[str, ...] = TABLES) -> list[str]:
    """The tables (of the current schema) changed enough since their last ANALYZE."""
    return [
        name
        for name, live, modified in _counters(conn, tables, "n_mod_since_analyze")
        if modified > _THRESHOLD_ROWS + _THRESHOLD_FRACTION * live
    ]


def unvacuumed_tables(conn: Connection, tables: tuple[str, ...] = TABLES) -> list[str]:
    """The tables (of the current schema) with enough dead or inserted rows since their last
    VACUUM."""
    return [
        name
        for name, live, dead, inserted in _counters(conn, tables, "n_dead_tup, n_ins_since_vacuum")
        if dead > _DEAD_ROWS + _DEAD_FRACTION * live
        or inserted > _INSERTED_ROWS + _INSERTED_FRACTION * live
    ]


def _run_on_due_tables(
    engine: Engine, due: Callable[[Connection], list[str]], command: str, done: str
) -> list[str]:
    """Run `command` on each table `due` finds; returns them (none when another node is at
    it). Outside a transaction, which VACUUM requires; names come from TABLES, not input."""
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        if not conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": _LOCK_KEY}).scalar():
            return []
        try:
            tables = due(conn)
            for table in tables:
                conn.exec_driver_sql(f'{command} "{table}"')
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _LOCK_KEY})
    if tables:
        log.info(done, ", ".join(tables))
    return tables


def analyze_stale_tables(engine: Engine) -> list[str]:
    """ANALYZE what needs it."""
    return _run_on_due_tables(engine, stale_tables, "ANALYZE", "analysed %s for the query planner")


def vacuum_unvacuumed_tables(engine: Engine) -> list[str]:
    """VACUUM what needs it. SKIP_LOCKED: a table autovacuum is at already is left to it."""
    return _run_on_due_tables(
        engine, unvacuumed_tables, "VACUUM (SKIP_LOCKED)", "vacuumed %s for index-only scans"
    )


def keep_statistics(engine: Engine) -> None:
    analyze_stale_tables(engine)
    vacuum_unvacuumed_tables(engine)


class StatisticsKeeper:
    """Background service: keep_statistics every CHECK_INTERVAL_SECONDS."""

    def __init__(self, engine: Engine, interval: float = CHECK_INTERVAL_SECONDS) -> None:
        self.loop = PeriodicLoop(
            "jobpulse-pg-statistics", interval, lambda: keep_statistics(engine)
        )

    def start(self) -> None:
        self.loop.start()

    def stop(self) -> None:
        self.loop.stop()
