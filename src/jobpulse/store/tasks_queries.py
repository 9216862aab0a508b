"""Reads of task runs: the filtered list with page and cursor paging, detail, related runs,
errors grouped by fingerprint and the queue health check."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, Select, and_, func, or_, select, union_all

from jobpulse.domain.runs import TERMINAL_STATUSES, RunStatus
from jobpulse.domain.stats import duration_octave
from jobpulse.store.tasks_cursor import make_cursor, read_cursor
from jobpulse.store.tasks_job_ref import same_job
from jobpulse.store.tasks_rows import implied_attempt_row
from jobpulse.store.tasks_tables import has_status, task_attempts, task_runs

ORDERING_FIELDS = (
    "id",
    "job_id",
    "task_name",
    "queue_name",
    "status",
    "duration_ms",
    "job_retries",
    "worker_id",
    "enqueue_time",
    "start_time",
    "finish_time",
    "created_at",
    "updated_at",
)
# Counting stops here: an exact count of millions of rows costs more than the page itself.
COUNT_LIMIT = 1_000
# `search` (substring match in five columns) can use no index: it looks at the newest this
# many runs of the created_after/created_before window, so a search for something that is not
# there costs tens of milliseconds at ten million runs instead of a scan of all of them.
SEARCH_WINDOW_RUNS = 100_000


@dataclass(frozen=True)
class TaskFilter:
    """The seed's TaskLog filters; None means "not filtered"."""

    task_name: str | None = None
    task_name_exact: str | None = None
    queue_name: str | None = None
    queue_name_in: tuple[str, ...] | None = None
    status: RunStatus | None = None
    status_in: tuple[RunStatus, ...] | None = None
    job_id: str | None = None
    is_completed: bool | None = None
    is_successful: bool | None = None
    is_failed: bool | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    duration_min: float | None = None
    duration_max: float | None = None
    job_retries_min: int | None = None
    job_retries_max: int | None = None
    has_error: bool | None = None
    worker_id: str | None = None
    search: str | None = None


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


_ALL_STATUSES = frozenset(RunStatus)


def allowed_statuses(where: TaskFilter) -> frozenset[RunStatus] | None:
    """The statuses every status filter admits together (None: any status).

    One `status IN (...)` (or `=`) instead of NOT IN / != lets the status index serve even
    when the complement is rare, as running tasks are among millions of finished ones."""
    allowed = _ALL_STATUSES
    if where.status is not None:
        allowed &= {where.status}
    if where.status_in is not None:
        allowed &= set(where.status_in)
    flags = (
        (where.is_completed, TERMINAL_STATUSES),
        (where.is_successful, {RunStatus.SUCCESS}),
        (where.is_failed, {RunStatus.FAILED}),
    )
    for wanted, statuses in flags:
        if wanted is not None:
            allowed &= statuses if wanted else _ALL_STATUSES - statuses
    return None if allowed == _ALL_STATUSES else allowed


def conditions(project_id: int, where: TaskFilter, *, split: str | None = None) -> list[Any]:
    """The WHERE clauses of a filter; `split` ("status" or "queue_name") leaves that column's
    IN list out, for the caller to query one value at a time."""
    c = task_runs.c
    found: list[Any] = [c.project_id == project_id]
    exact = {
        c.task_name: where.task_name_exact,
        c.queue_name: where.queue_name,
        c.worker_id: where.worker_id,
    }
    found += [column == value for column, value in exact.items() if value is not None]
    if where.job_id is not None:
        found.append(same_job(project_id, where.job_id))
    if where.task_name is not None:
        found.append(c.task_name.ilike(_like(where.task_name), escape="\\"))
    if where.queue_name_in is not None and split != "queue_name":
        found.append(c.queue_name.in_(where.queue_name_in))
    statuses = allowed_statuses(where)
    if statuses is not None and split != "status":
        values = sorted(s.value for s in statuses)
        found += has_status(*values)
    bounds = (
        (c.created_at, where.created_after, where.created_before),
        (c.duration_ms, where.duration_min, where.duration_max),
        (c.job_retries, where.job_retries_min, where.job_retries_max),
    )
    for column, low, high in bounds:
        if low is not None:
            found.append(column >= low)
        if high is not None:
            found.append(column <= high)
    if where.has_error is not None:
        has_error = and_(c.error_message.is_not(None), c.error_message != "")
        found.append(has_error if where.has_error else ~has_error)
    if where.search:
        pattern = _like(where.search)
        searched = (c.task_name, c.job_id, c.queue_name, c.error_message, c.worker_id)
        found.append(or_(*(column.ilike(pattern, escape="\\") for column in searched)))
    return found


@dataclass(frozen=True)
class Page:
    ordering: str = "-created_at"
    page: int = 1
    page_size: int = 50
    cursor: str | None = None


@dataclass
class TaskPage:
    count: int
    count_exact: bool
    rows: list[RowMapping]
    has_more: bool
    next_cursor: str | None = None
    searched_since: datetime | None = None  # set when the search window cut older runs off


def _order(ordering: str) -> tuple[str, bool]:
    name = ordering.lstrip("-")
    if name not in ORDERING_FIELDS:
        raise ValueError(f"unknown ordering field {name!r}")
    return name, ordering.startswith("-")


def _after(name: str, descending: bool, value: Any, last_id: int) -> Any:
    """Rows after (value, id) in the order: NULLs come last either way."""
    column, id_column = task_runs.c[name], task_runs.c.id
    next_id = id_column < last_id if descending else id_column > last_id
    if value is None:
        after = and_(column.is_(None), next_id)
    else:
        beyond = column < value if descending else column > value
        after = or_(beyond, and_(column == value, next_id))
        if task_runs.c[name].nullable:
            after = or_(after, column.is_(None))
    if _by_octave(name, descending):
        # Implied by the rest; lets the index range start at the cursor's octave.
        after = and_(task_runs.c.duration_octave <= duration_octave(value), after)
    return after


def _by_octave(name: str, descending: bool) -> bool:
    """Slowest first reads the duration-octave index (see domain.stats.duration_octave)."""
    return name == "duration_ms" and descending


def _ordered(query: Select[Any], name: str, descending: bool) -> Select[Any]:
    column, id_column = task_runs.c[name], task_runs.c.id
    key = column.desc() if descending else column.asc()
    if column.nullable:
        key = key.nulls_last()
    keys = [key, id_column.desc() if descending else id_column.asc()]
    if _by_octave(name, descending):
        keys.insert(0, task_runs.c.duration_octave.desc())  # runs without one (0) come last
    return query.order_by(*keys)


# An IN list of up to this many values, newest first, is read as one index range per value.
_MAX_SPLIT_VALUES = 8


def _split(where: TaskFilter, name: str) -> tuple[str, list[str]] | None:
    """The column and values to query one at a time, when the created-at order of a page
    would otherwise walk every run's index entry to find a few matching ones."""
    if name != "created_at":
        return None
    statuses = allowed_statuses(where)
    if statuses is not None and 1 < len(statuses) <= _MAX_SPLIT_VALUES:
        return "status", sorted(s.value for s in statuses)
    if where.queue_name is None and where.queue_name_in is not None:
        queues = sorted(set(where.queue_name_in))
        if 1 < len(queues) <= _MAX_SPLIT_VALUES:
            return "queue_name", queues
    return None


def _page_query(
    where: TaskFilter, project_id: int, page: Page, name: str, descending: bool
) -> Select[Any]:
    cursor = read_cursor(page.cursor, page.ordering) if page.cursor else None
    offset = 0 if cursor else (page.page - 1) * page.page_size
    split = _split(where, name)
    found = conditions(project_id, where, split=split[0] if split else None)

    def one_range(extra: list[Any], limit: int) -> Select[Any]:
        query = select(task_runs).where(*found)
        query = query.where(*extra)
        if cursor:
            query = query.where(_after(name, descending, *cursor))
        return _ordered(query, name, descending).limit(limit)

    if split is None:
        return one_range([], page.page_size + 1).offset(offset or None)
    column, values = split
    # Each range is read in index order, at most as far as the page needs: a merge of a few
    # short index walks instead of one that filters (or sorts) every run.
    ranges = [
        one_range(
            has_status(value) if column == "status" else [task_runs.c[column] == value],
            offset + page.page_size + 1,
        ).subquery()
        for value in values
    ]
    merged = union_all(*(select(r) for r in ranges)).subquery()
    order = merged.c[name].desc() if descending else merged.c[name].asc()
    tie = merged.c.id.desc() if descending else merged.c.id.asc()
    return select(merged).order_by(order, tie).offset(offset or None).limit(page.page_size + 1)


def _search_window_start(conn: Connection, project_id: int, where: TaskFilter) -> datetime | None:
    """created_at of the oldest run a search looks at, when there are more than the window."""
    c = task_runs.c
    bounds = [c.project_id == project_id]
    if where.created_after is not None:
        bounds.append(c.created_at >= where.created_after)
    if where.created_before is not None:
        bounds.append(c.created_at <= where.created_before)
    query = (
        select(c.created_at)
        .where(*bounds)
        .order_by(c.created_at.desc(), c.id.desc())
        .offset(SEARCH_WINDOW_RUNS - 1)
        .limit(2)
    )
    oldest_in_window, *beyond = conn.execute(query).scalars().all() or [None]
    return oldest_in_window if beyond else None


def list_runs(conn: Connection, project_id: int, where: TaskFilter, page: Page) -> TaskPage:
    name, descending = _order(page.ordering)
    searched_since = _search_window_start(conn, project_id, where) if where.search else None
    if searched_since is not None:
        where = replace(where, created_after=searched_since)
    found = conditions(project_id, where)
    capped = select(task_runs.c.id).where(*found).limit(COUNT_LIMIT + 1).subquery()
    count = int(conn.execute(select(func.count()).select_from(capped)).scalar_one())
    rows = list(conn.execute(_page_query(where, project_id, page, name, descending)).mappings())
    has_more = len(rows) > page.page_size
    rows = rows[: page.page_size]
    return TaskPage(
        count=min(count, COUNT_LIMIT),
        count_exact=count <= COUNT_LIMIT and searched_since is None,
        rows=rows,
        has_more=has_more,
        next_cursor=make_cursor(page.ordering, rows[-1]) if has_more and rows else None,
        searched_since=searched_since,
    )


def get_run(conn: Connection, project_id: int, key: str) -> RowMapping | None:
    """A run by its numeric id, else by its job_id."""
    base = select(task_runs).where(task_runs.c.project_id == project_id)
    if key.isdigit() and int(key) < 2**62:
        row = conn.execute(base.where(task_runs.c.id == int(key))).mappings().first()
        if row is not None:
            return row
    return conn.execute(base.where(same_job(project_id, key))).mappings().first()


def attempts_of(conn: Connection, run: RowMapping) -> list[Mapping[str, Any]]:
    """The attempts of a stored run, oldest first (a run without attempt rows had the one
    its row implies: see tasks_rows.implied_attempt)."""
    query = select(task_attempts).where(task_attempts.c.run_id == run["id"])
    found = list(conn.execute(query.order_by(task_attempts.c.number)).mappings())
    return found or [implied_attempt_row(run)]


def related_runs(
    conn: Connection, project_id: int, run: RowMapping, limit: int
) -> list[RowMapping]:
    """Other runs of the same job_id or task, newest first."""
    c = task_runs.c
    query = (
        select(task_runs)
        .where(
            c.project_id == project_id,
            c.id != run["id"],
            or_(same_job(project_id, run["job_id"]), c.task_name == run["task_name"]),
        )
        .order_by(c.created_at.desc(), c.id.desc())
        .limit(limit)
    )
    return list(conn.execute(query).mappings())


@dataclass(frozen=True)
class ErrorGroup:
    fingerprint: str
    count: int
    first_seen: datetime
    last_seen: datetime
    sample: RowMapping


def error_groups(
    conn: Connection, project_id: int, since: datetime, task_name: str | None, limit: int
) -> list[ErrorGroup]:
    c = task_runs.c
    found = [
        c.project_id == project_id,
        *has_status(RunStatus.FAILED.value),
        c.created_at >= since,
        c.fingerprint.is_not(None),
    ]
    if task_name is not None:
        found.append(c.task_name == task_name)
    n = func.count().label("n")
    groups = conn.execute(
        select(
            c.fingerprint,
            n,
            func.min(c.created_at).label("first"),
            func.max(c.created_at).label("last"),
            func.max(c.id).label("sample_id"),
        )
        .where(*found)
        .group_by(c.fingerprint)
        .order_by(n.desc(), c.fingerprint)
        .limit(limit)
    ).all()
    samples = {
        row["id"]: row
        for row in conn.execute(
            select(task_runs).where(c.id.in_([g.sample_id for g in groups]))
        ).mappings()
    }
    return [
        ErrorGroup(
            g.fingerprint,
            int(g.n),
            _as_datetime(g.first),
            _as_datetime(g.last),
            samples[g.sample_id],
        )
        for g in groups
    ]


def _as_datetime(value: Any) -> datetime:
    # min()/max() over a Timestamp column lose the column type on some dialects.
    if isinstance(value, datetime):
        return value
    return datetime.fromtimestamp(float(value), tz=UTC)


def count_stuck_and_queued(
    conn: Connection, project_id: int, started_before: datetime
) -> tuple[int, int]:
    """Runs in progress since before `started_before`, and runs waiting in a queue."""
    c = task_runs.c

    def count(*where: Any) -> int:
        query = select(func.count()).select_from(task_runs).where(c.project_id == project_id)
        return int(conn.execute(query.where(*where)).scalar_one())

    stuck = count(*has_status(RunStatus.IN_PROGRESS.value), c.start_time < started_before)
    return stuck, count(*has_status(RunStatus.QUEUED.value))
