"""Task events prepared for the writer before it takes its turn.

Each job's events are folded into a run, its row and attempt rows derived in the drivers'
types, and what the runs add to the rollups summed, as if every job were new. Then, in the
transaction, the jobs are only looked up: a job not seen before is inserted as prepared
(nearly all of them), any other is folded again with its stored row. The writer thread
prepares before its turn at the database, so the processes of `serve --workers N` prepare
while another one holds SQLite's write lock.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from jobpulse.domain.runs import TaskEvent, fold_all
from jobpulse.store.tasks_rows import Contribution, RollupDelta, attempt_row, run_row


@dataclass
class PreparedRun:
    """One job's events of a request, folded as if the job were new."""

    events: list[TaskEvent]
    contribution: Contribution  # what the rollups were given for it
    row: tuple[Any, ...]  # RUN_STATE_COLUMNS for the driver
    # (number, *ATTEMPT_COLUMNS) for the driver; none when the row implies them
    attempts: list[tuple[Any, ...]]


def prepare_run(events: list[TaskEvent]) -> PreparedRun:
    run = fold_all(None, events)
    assert run is not None
    contribution, row, implied = run_row(run)
    attempts = (
        []
        if implied
        else [(number, *attempt_row(attempt)) for number, attempt in run.attempts.items()]
    )
    return PreparedRun(events, contribution, row, attempts)


class EventBatch:
    """The events of one request (validated and redacted), prepared for the writer by
    `prepare()`, which the writer thread runs before its turn (TaskIngest.prepare).

    `events` may also be a function that produces them (converting what the API decoded):
    it then runs in prepare() too, in the writer thread, while another process holds
    SQLite's write lock, rather than in the request's thread, where it would compete for
    the interpreter with this process's writer while it holds the lock. What it raises
    goes back to the request.
    """

    def __init__(
        self, project_id: int, events: Sequence[TaskEvent] | Callable[[], Sequence[TaskEvent]]
    ) -> None:
        self.project_id = project_id
        self._source = events
        self.events: Sequence[TaskEvent] = ()
        self.delta = RollupDelta()
        self.runs: dict[str, PreparedRun] = {}
        # Set by TaskIngest.prepare_together on the first request of a transaction.
        self.plan: TransactionPlan | None = None
        self._prepared = False

    @property
    def size(self) -> int:
        """The number of events (once prepared)."""
        return len(self.events)

    def prepare(self) -> EventBatch:
        """Fold each job's events and sum the rollups, as if every job were new (once)."""
        if self._prepared:
            return self
        source = self._source
        self.events = source() if callable(source) else source
        by_job: dict[str, list[TaskEvent]] = {}
        for event in self.events:
            found = by_job.get(event.job_id)
            if found is None:
                by_job[event.job_id] = [event]
            else:
                found.append(event)
        for job_id, job_events in by_job.items():
            prepared = self.runs[job_id] = prepare_run(job_events)
            self.delta.add(self.project_id, prepared.contribution, 1)
        self._prepared = True
        return self


class TransactionPlan:
    """The requests of one write transaction, merged before the writer's turn: one
    prepared run per project and job (a job reported by several of the requests, as when
    its producer and its worker post separately, is folded once over all its events) and
    the rollup changes of them all, as if every job were new."""

    def __init__(self, batches: Sequence[EventBatch]) -> None:
        self.batches = list(batches)
        self.delta = RollupDelta()
        self.jobs: dict[int, dict[str, PreparedRun]] = {}
        parts: dict[int, dict[str, list[PreparedRun]]] = {}
        for batch in batches:
            batch.prepare()
            self.delta.merge(batch.delta)
            found = parts.setdefault(batch.project_id, {})
            for job_id, prepared in batch.runs.items():
                runs = found.get(job_id)
                if runs is None:
                    found[job_id] = [prepared]
                else:
                    runs.append(prepared)
        for project_id, by_job in parts.items():
            jobs = self.jobs[project_id] = {}
            for job_id, runs in by_job.items():
                if len(runs) == 1:
                    jobs[job_id] = runs[0]
                    continue
                for part in runs:  # each assumed a new job: take it back
                    self.delta.add(project_id, part.contribution, -1)
                merged = jobs[job_id] = prepare_run([e for part in runs for e in part.events])
                self.delta.add(project_id, merged.contribution, 1)

    def is_for(self, batches: Sequence[EventBatch]) -> bool:
        return len(batches) == len(self.batches) and all(
            mine is theirs for mine, theirs in zip(self.batches, batches, strict=True)
        )
