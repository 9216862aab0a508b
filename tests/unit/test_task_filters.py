"""Which statuses a combination of the TaskLog's status filters admits."""

from __future__ import annotations

import pytest

from jobpulse.domain.runs import TERMINAL_STATUSES, RunStatus
from jobpulse.store.tasks_queries import TaskFilter, allowed_statuses

S = RunStatus
RUNNING = frozenset(RunStatus) - TERMINAL_STATUSES


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        (TaskFilter(), None),
        (TaskFilter(task_name="x"), None),
        (TaskFilter(status=S.FAILED), {S.FAILED}),
        (TaskFilter(status_in=(S.FAILED, S.RETRYING)), {S.FAILED, S.RETRYING}),
        (TaskFilter(is_completed=True), TERMINAL_STATUSES),
        (TaskFilter(is_completed=False), RUNNING),
        (TaskFilter(is_successful=True), {S.SUCCESS}),
        (TaskFilter(is_successful=False), frozenset(RunStatus) - {S.SUCCESS}),
        (
            TaskFilter(is_failed=False, is_successful=False, is_completed=True),
            {S.EXPIRED, S.CANCELED},
        ),
        (TaskFilter(status_in=(S.QUEUED, S.FAILED), is_completed=False), {S.QUEUED}),
        (TaskFilter(status=S.SUCCESS, is_failed=True), set()),
        (TaskFilter(status_in=tuple(RunStatus)), None),
    ],
)
def test_status_filters_combine_into_one_set(where: TaskFilter, expected: object) -> None:
    assert allowed_statuses(where) == expected
