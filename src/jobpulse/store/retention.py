"""What every retention pass shares: deletes in small id-ordered chunks, and a background
service that prunes at start and then every interval."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any, Generic, Protocol, Self, TypeVar

from sqlalchemy import ColumnElement, Connection, Table, delete, select

from jobpulse.engine.loop import PeriodicLoop
from jobpulse.store.writer import GroupCommitWriter

log = logging.getLogger(__name__)

PRUNE_CHUNK = 5000
R = TypeVar("R")


class StepResult(Protocol):
    """What one bounded prune step reports: counts that add up, and their total."""

    @property
    def total(self) -> int: ...

    def __iadd__(self, other: Self) -> Self: ...


S = TypeVar("S", bound=StepResult)


def prune_in_steps(
    writer: GroupCommitWriter,
    step: Callable[[Connection, Any], S],
    argument: Any,
    total: S,
) -> S:
    """Run `step` through the writer, one small transaction each, until it deletes nothing:
    ingest never waits long behind a prune."""

    def handler(conn: Connection, arguments: Sequence[Any]) -> list[S]:
        return [step(conn, a) for a in arguments]

    while True:
        done: S = writer.run_sync(_handlers.setdefault(step, handler), argument, timeout=600)
        total += done
        if done.total == 0:
            return total


# One handler object per step function: the writer batches jobs by handler identity.
_handlers: dict[Callable[..., Any], Callable[..., Any]] = {}


def delete_oldest(
    conn: Connection,
    table: Table,
    id_column: ColumnElement[int],
    condition: ColumnElement[bool],
    limit: int = PRUNE_CHUNK,
) -> int:
    """Delete up to `limit` rows matching `condition`, oldest id first. In id order, so nodes
    pruning at the same time lock rows in the same order."""
    oldest = select(id_column).where(condition).order_by(id_column).limit(limit)
    return int(conn.execute(delete(table).where(id_column.in_(oldest.scalar_subquery()))).rowcount)


class Pruner(Generic[R]):
    """Background service: runs `prune()` at start and then every interval."""

    def __init__(self, name: str, interval_seconds: float, prune: Callable[[], R]) -> None:
        self._prune = prune
        # A pass over a large backlog is many short transactions: long, not hung.
        self.loop = PeriodicLoop(name, interval_seconds, self.run_once, hung_after=float("inf"))
        self.last_result: R | None = None

    def start(self) -> None:
        self.loop.start()

    def stop(self) -> None:
        self.loop.stop()

    def run_once(self) -> R:
        self.last_result = self._prune()
        log.debug("%s: %s", self.loop.name, self.last_result)
        return self.last_result
