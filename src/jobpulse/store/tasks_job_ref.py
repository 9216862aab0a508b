"""How a run is found by its job id: on PostgreSQL, by a hash index of its job reference.

A job's reference is "<project_id>:<job_id>" (injective: a project id has no colon). On
PostgreSQL the one-run-per-job rule is an exclusion constraint over a hash index of it
(migration 0111): each entry holds a 4-byte hash code instead of the whole job id, and
every look-up reads one bucket page, so at 10 million runs of random UUIDs (what the queue
libraries make) far more of the index stays in the buffer pool than of the B-tree of job
ids it replaced, whose probes were half of the server's time under ingest. PostgreSQL
compares the stored references whose hash codes match, so two jobs sharing a hash code
still get a run each. SQLite keeps its unique index of project and job id.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Text, and_, cast, literal_column
from sqlalchemy.dialects import postgresql

from jobpulse.store.tasks_tables import task_runs

# The indexed expression: PostgreSQL uses an expression index only for the same expression
# (migration 0111 spells it out for itself).
job_reference = (
    cast(task_runs.c.project_id, Text).concat(literal_column("':'")).concat(task_runs.c.job_id)
)
# The same, for statements sent to the driver as text (ingest's look-up).
JOB_REF_SQL = str(job_reference.compile(dialect=postgresql.dialect()))


def job_ref(project_id: int, job_id: str) -> str:
    return f"{project_id}:{job_id}"


def same_job(project_id: int, job_id: str) -> ColumnElement[bool]:
    """WHERE clause for the run of `job_id` in the project, read by index on both databases
    (SQLite: project and job id; PostgreSQL: the reference)."""
    c = task_runs.c
    return and_(
        c.project_id == project_id,
        c.job_id == job_id,
        job_reference == job_ref(project_id, job_id),
    )
