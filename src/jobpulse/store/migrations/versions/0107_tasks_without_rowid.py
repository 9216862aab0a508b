"""task log: attempts and rollups keyed by their primary key alone (SQLite WITHOUT ROWID)

A SQLite table whose key is not a single integer keeps two B-trees: the rows by a hidden
rowid, and an index of the key pointing at them. Every attempt and every rollup change
wrote both. WITHOUT ROWID stores the rows in the key's B-tree: one B-tree per table, a
tenth fewer pages written per run at 10 M runs (benchmarks/README.md). The rollup tables'
unique keys become their primary keys, on PostgreSQL too (the same columns and order, so
queries and upserts are unchanged).

The SQLite tables are rebuilt: on a big task log this takes a while, once (50 s for a file
of 10 M runs on a 2-core machine).

Revision ID: 0107
Revises: 0106
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0107"
down_revision = "0106"
branch_labels = None
depends_on = None

_ROLLUP_KEY = ["project_id", "period", "bucket_start", "task_name", "queue_name"]
# table -> (its key, the name of the unique constraint that held the key before)
_ROLLUPS = {
    "task_rollups": (_ROLLUP_KEY, "uq_task_rollups"),
    "task_rollup_durations": ([*_ROLLUP_KEY, "bucket"], "uq_task_rollup_durations"),
    "task_project_durations": (
        ["project_id", "period", "bucket_start", "bucket"],
        "uq_task_project_durations",
    ),
}
_ATTEMPTS_KEY = ["run_id", "number"]


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild("task_attempts", with_rowid=False, primary_key=_ATTEMPTS_KEY)
        for table, (key, _) in _ROLLUPS.items():
            _rebuild(table, with_rowid=False, primary_key=key)
        return
    for table, (key, unique) in _ROLLUPS.items():
        op.drop_constraint(unique, table, type_="unique")
        op.create_primary_key(f"pk_{table}", table, key)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild("task_attempts", with_rowid=True, primary_key=_ATTEMPTS_KEY)
        for table, (key, unique) in _ROLLUPS.items():
            _rebuild(table, with_rowid=True, unique=(unique, key))
        return
    for table, (key, unique) in _ROLLUPS.items():
        op.drop_constraint(f"pk_{table}", table, type_="primary")
        op.create_unique_constraint(unique, table, key)


def _default_of(column: sa.Column[object]) -> Any:
    """A reflected column's server default, for the same column in another table."""
    default = column.server_default
    return default.arg if isinstance(default, sa.DefaultClause) else None


def _rebuild(
    name: str,
    *,
    with_rowid: bool,
    primary_key: list[str] | None = None,
    unique: tuple[str, list[str]] | None = None,
) -> None:
    """SQLite: the table made again with the given keys, its rows, foreign keys and
    indexes kept (SQLite cannot change a table's keys in place)."""
    bind = op.get_bind()
    old = sa.Table(name, sa.MetaData(), autoload_with=bind)
    rebuilt = f"{name}_rebuilt"
    constraints: list[sa.Constraint] = [
        sa.ForeignKeyConstraint(
            list(fk.column_keys),
            [element.target_fullname for element in fk.elements],
            ondelete=fk.ondelete,
        )
        for fk in old.foreign_key_constraints
    ]
    if primary_key:
        constraints.append(sa.PrimaryKeyConstraint(*primary_key))
    if unique:
        constraints.append(sa.UniqueConstraint(*unique[1], name=unique[0]))
    columns = [column.name for column in old.columns]
    new = sa.Table(
        rebuilt,
        old.metadata,  # holds the tables the foreign keys point at (reflected with it)
        *(
            sa.Column(
                column.name,
                column.type,
                nullable=column.nullable,
                server_default=_default_of(column),
            )
            for column in old.columns
        ),
        *constraints,
        sqlite_with_rowid=with_rowid,
    )
    new.create(bind)
    listed = ", ".join(columns)
    op.execute(f"INSERT INTO {rebuilt} ({listed}) SELECT {listed} FROM {name}")
    op.drop_table(name)
    op.rename_table(rebuilt, name)
    for index in old.indexes:
        op.create_index(
            index.name or f"ix_{name}_{'_'.join(c.name for c in index.columns)}",
            name,
            [column.name for column in index.columns],
            unique=index.unique,
        )
