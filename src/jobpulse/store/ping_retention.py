"""Keeping each check's newest pings only: a check pinged every minute would otherwise add
half a million rows a year. Runs in bounded steps through the writer, so ingest never waits
long behind it; the `n_pings` counter keeps counting every ping ever received."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, delete, select

from jobpulse.store.retention import PRUNE_CHUNK, Pruner
from jobpulse.store.tables import checks, pings
from jobpulse.store.writer import GroupCommitWriter

log = logging.getLogger(__name__)

CHECKS_PER_STEP = 500
DELETES_PER_STEP = PRUNE_CHUNK


@dataclass(frozen=True)
class PingPruneStep:
    kept: int  # newest pings kept per check
    after_check_id: int  # checks are visited in id order, from after this one


@dataclass(frozen=True)
class PingPruneResult:
    deleted: int
    next_check_id: int | None  # None: every check was visited


def prune_pings_step(conn: Connection, step: PingPruneStep) -> PingPruneResult:
    check_ids = list(
        conn.execute(
            select(checks.c.id)
            .where(checks.c.id > step.after_check_id)
            .order_by(checks.c.id)
            .limit(CHECKS_PER_STEP)
        ).scalars()
    )
    deleted = 0
    for check_id in check_ids:
        newest_dropped = conn.execute(
            select(pings.c.id)
            .where(pings.c.check_id == check_id)
            .order_by(pings.c.id.desc())
            .offset(step.kept)
            .limit(1)
        ).scalar_one_or_none()
        if newest_dropped is None:
            continue
        oldest = (
            select(pings.c.id)
            .where(pings.c.check_id == check_id, pings.c.id <= newest_dropped)
            .order_by(pings.c.id)
            .limit(DELETES_PER_STEP - deleted)
        )
        deleted += int(
            conn.execute(delete(pings).where(pings.c.id.in_(oldest.scalar_subquery()))).rowcount
        )
        if deleted >= DELETES_PER_STEP:  # this check may have more: the next step starts at it
            return PingPruneResult(deleted, check_id - 1)
    more = len(check_ids) == CHECKS_PER_STEP
    return PingPruneResult(deleted, check_ids[-1] if more else None)


def prune_pings_handler(conn: Connection, steps: Sequence[PingPruneStep]) -> list[PingPruneResult]:
    return [prune_pings_step(conn, step) for step in steps]


def prune_pings(writer: GroupCommitWriter, kept: int) -> int:
    """Delete every check's pings beyond its `kept` newest; returns how many went."""
    total, after = 0, 0
    while True:
        result: PingPruneResult = writer.run_sync(
            prune_pings_handler, PingPruneStep(kept, after), timeout=600
        )
        total += result.deleted
        if result.next_check_id is None:
            return total
        after = result.next_check_id


def ping_pruner(writer: GroupCommitWriter, kept: int, interval_seconds: float) -> Pruner[int]:
    """Prunes pings at start and then every interval; its result: how many went."""

    def run() -> int:
        deleted = prune_pings(writer, kept)
        if deleted:
            log.info("pruned %d old pings (keeping %d per check)", deleted, kept)
        return deleted

    return Pruner("jobpulse-ping-pruner", interval_seconds, run)
