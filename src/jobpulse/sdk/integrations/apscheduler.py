"""APScheduler 3: `APSchedulerIntegration(scheduler).setup(client)`.

Each scheduled job maps to a check (by default its slug is the job id; pass `checks` to map
ids to slugs or uuids). Submitted → `start`, executed → success, error → `fail` with the
exception; a missed run sends a `log` ping saying so, and the check goes late because no
success arrives. Pings go through one background thread, in order, so the scheduler's
thread never waits on the network.

APScheduler announces a submission after handing the job to its executor, so a short job can
finish first; the finish then sends the start itself and the late submission is skipped.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MISSED,
    EVENT_JOB_SUBMITTED,
    JobEvent,
    JobExecutionEvent,
    JobSubmissionEvent,
)

from jobpulse.sdk.client import failure_body
from jobpulse.sdk.safety import guarded

if TYPE_CHECKING:
    from jobpulse.sdk.client import Client

log = logging.getLogger("jobpulse.sdk")
_MASK = EVENT_JOB_SUBMITTED | EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED


def run_id(job_id: str, scheduled: datetime | None) -> str:
    """The rid pairing a run's start with its finish: stable per job and scheduled time."""
    stamp = scheduled.isoformat() if scheduled else "unscheduled"
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"apscheduler:{job_id}:{stamp}"))


class APSchedulerIntegration:
    def __init__(
        self,
        scheduler: Any,
        *,
        checks: Mapping[str, str] | None = None,
        only_mapped: bool = False,
        create: bool = False,
    ) -> None:
        self.scheduler = scheduler
        self.checks = dict(checks or {})
        self.only_mapped = only_mapped
        self.create = create
        self._pinger = ThreadPoolExecutor(max_workers=1, thread_name_prefix="jobpulse-aps")
        self._lock = threading.Lock()
        self._started: set[str] = set()
        self._finished_early: set[str] = set()

    def setup(self, client: Client) -> None:
        self.client = client
        self.scheduler.add_listener(self._on_event, _MASK)

    def check_for(self, job_id: str) -> str | None:
        if job_id in self.checks:
            return self.checks[job_id]
        return None if self.only_mapped else job_id

    def wait_idle(self, timeout: float = 10.0) -> None:
        """Wait until the pings queued so far were sent (tests; shutdown)."""
        self._pinger.submit(lambda: None).result(timeout)

    @guarded
    def _on_event(self, event: JobEvent) -> None:
        check = self.check_for(event.job_id)
        if check is None:
            return
        if isinstance(event, JobSubmissionEvent):
            grace = self._misfire_grace(event.job_id)
            for scheduled in event.scheduled_run_times:
                if grace is not None and datetime.now(scheduled.tzinfo) - scheduled > grace:
                    continue  # the executor will report it missed: no start
                self._submitted(check, run_id(event.job_id, scheduled))
        elif isinstance(event, JobExecutionEvent):
            rid = run_id(event.job_id, event.scheduled_run_time)
            if event.code != EVENT_JOB_MISSED:
                self._ensure_started(check, rid)
            if event.code == EVENT_JOB_MISSED:
                body = f"missed run scheduled at {event.scheduled_run_time.isoformat()}"
                self._ping(check, "log", rid, body)
            elif event.exception is not None:
                error = event.exception
                body = failure_body(type(error), error, error.__traceback__)
                self._ping(check, "fail", rid, body)
            else:
                self._ping(check, None, rid)

    def _misfire_grace(self, job_id: str) -> timedelta | None:
        job = self.scheduler.get_job(job_id)
        if job is not None:
            seconds = job.misfire_grace_time
        else:  # a one-off job is removed once submitted: assume the scheduler's default
            seconds = getattr(self.scheduler, "_job_defaults", {}).get("misfire_grace_time", 1)
        return None if seconds is None else timedelta(seconds=seconds)

    # The start is queued under the lock: the submission (scheduler thread) and the finish
    # (executor thread) race, and the finish's ping must never be queued before the start.
    def _submitted(self, check: str, rid: str) -> None:
        with self._lock:
            if rid in self._finished_early:
                self._finished_early.discard(rid)
                return
            self._started.add(rid)
            self._ping(check, "start", rid)

    def _ensure_started(self, check: str, rid: str) -> None:
        with self._lock:
            if rid in self._started:
                self._started.discard(rid)
                return
            if len(self._finished_early) > 10_000:
                self._finished_early.clear()
            self._finished_early.add(rid)
            self._ping(check, "start", rid)

    def _ping(self, check: str, action: str | None, rid: str, body: str | None = None) -> None:
        self._pinger.submit(
            guarded(self.client.ping), check, action, rid=rid, body=body, create=self.create
        )
