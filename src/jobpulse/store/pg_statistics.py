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
_LOCK_KEY = 0x6A70_7374  # "jpst": one node analyses at a time


def stale_tables(conn: Connection, tables: tuple[str, ...] = TABLES) -> list[str]:
    """The tables (of the current schema) changed enough since their last ANALYZE."""
    found = conn.execute(
        text(
            "SELECT relname, n_live_tup, n_mod_since_analyze FROM pg_stat_user_tables "
            "WHERE schemaname = current_schema() AND relname = ANY(:names) ORDER BY relname"
        ),
        {"names": list(tables)},
    )
    return [
        name
        for name, live, modified in found
        if modified > _THRESHOLD_ROWS + _THRESHOLD_FRACTION * live
    ]


def unvacuumed_tables(conn: Connection, tables: tuple[str, ...] = TABLES) -> list[str]:
    """The tables (of the current schema) with enough dead or inserted rows since their last
    VACUUM."""
    found = conn.execute(
        text(
            "SELECT relname, n_live_tup, n_dead_tup, n_ins_since_vacuum FROM pg_stat_user_tables "
            "WHERE schemaname = current_schema() AND relname = ANY(:names) ORDER BY relname"
        ),
        {"names": list(tables)},
    )
    return [
        name
        for name, live, dead, inserted in found
        if dead > _DEAD_ROWS + _DEAD_FRACTION * live
        or inserted > _INSERTED_ROWS + _INSERTED_FRACTION * live
    ]


def vacuum_unvacuumed_tables(engine: Engine) -> list[str]:
    """VACUUM what needs it (outside a transaction, as VACUUM must); returns the tables
    vacuumed. SKIP_LOCKED: a table autovacuum is at already is left to it."""
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        if not conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": _LOCK_KEY}).scalar():
            return []
        try:
            due = unvacuumed_tables(conn)
            for table in due:
                conn.exec_driver_sql(f'VACUUM (SKIP_LOCKED) "{table}"')  # names from TABLES
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _LOCK_KEY})
    if due:
        log.info("vacuumed %s for index-only scans", ", ".join(due))
    return due


def keep_statistics(engine: Engine) -> None:
    analyze_stale_tables(engine)
    vacuum_unvacuumed_tables(engine)


def analyze_stale_tables(engine: Engine) -> list[str]:
    """ANALYZE what needs it; returns the tables analysed (none when another node is at it)."""
    with engine.begin() as conn:
        if not conn.execute(
            text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": _LOCK_KEY}
        ).scalar():
            return []
        stale = stale_tables(conn)
        for table in stale:
            conn.exec_driver_sql(f'ANALYZE "{table}"')  # names from TABLES, not from input
    if stale:
        log.info("analysed %s for the query planner", ", ".join(stale))
    return stale


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
