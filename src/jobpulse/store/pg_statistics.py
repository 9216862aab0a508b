"""Planner statistics for the fast-growing tables on PostgreSQL, when autovacuum lags or is off.

PostgreSQL picks indexes from statistics that ANALYZE gathers (autovacuum runs it). A table
without them gets guessed row counts: at ten million runs and no statistics, the list of one
task, newest first, was read through the duration index and 73,000 runs sorted (650 ms to
1.6 s) instead of 51 index entries read in order (0.5 ms). So every minute a node checks the
task log and ping tables and runs ANALYZE on any whose changes since its last analysis exceed
autovacuum's own default rule (50 rows + 10 %). With autovacuum on, it has normally done so
already and this finds nothing to do. One node at a time (an advisory lock); SQLite's
planner needs no statistics for these queries.
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
    """Background service: analyze_stale_tables every CHECK_INTERVAL_SECONDS."""

    def __init__(self, engine: Engine, interval: float = CHECK_INTERVAL_SECONDS) -> None:
        self.loop = PeriodicLoop(
            "jobpulse-pg-statistics", interval, lambda: analyze_stale_tables(engine)
        )

    def start(self) -> None:
        self.loop.start()

    def stop(self) -> None:
        self.loop.stop()
