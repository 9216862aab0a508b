"""task log: on PostgreSQL, its tables have no foreign keys

PostgreSQL checks a foreign key with a trigger that runs a query per row written: for every
run (its project), every attempt (its run, which it also locks, one more WAL record) and
every rollup row. In a profile of the server storing runs into a table of about a million,
these checks took a fifth of its time. The rows they guarded are written by one handler
only, with ids from the same transaction, and projects are never deleted; the one cascade
that was used, attempts with their run, is done by the prune itself
(tasks_retention.prune_step). SQLite keeps its keys: its checks cost little, and dropping
them would rebuild the largest table.

Revision ID: 0109
Revises: 0108
"""

from __future__ import annotations

from alembic import op

revision = "0109"
down_revision = "0108"
branch_labels = None
depends_on = None

# (table, column, referred table), each with PostgreSQL's default constraint name.
_KEYS = [
    ("task_runs", "project_id", "projects"),
    ("task_attempts", "run_id", "task_runs"),
    ("task_rollups", "project_id", "projects"),
    ("task_rollup_durations", "project_id", "projects"),
    ("task_project_durations", "project_id", "projects"),
]


def _name(table: str, column: str) -> str:
    return f"{table}_{column}_fkey"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column, _ in _KEYS:
        op.drop_constraint(_name(table, column), table, type_="foreignkey")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column, referred in _KEYS:
        op.create_foreign_key(
            _name(table, column), table, referred, [column], ["id"], ondelete="CASCADE"
        )
