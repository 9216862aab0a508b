"""task log: index durations by octave instead of by value

The two indexes on duration_ms took every new run at a random place in a B-tree of millions
of entries, so at ten million runs each write batch rewrote thousands of index pages (and the
ingest rate halved). Indexed by octave (1-2 ms, 2-4 ms, ...) and id instead, a new run goes to
the end of one of a few dozen ranges; "slowest first" reads octaves in order and sorts within
one (jobpulse.domain.stats.duration_octave, which this backfill mirrors).

Revision ID: 0105
Revises: 0104
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0105"
down_revision = "0104"
branch_labels = None
depends_on = None

# As in the domain at this revision: octave o holds (2**(o - 12), 2**(o - 11)] ms.
_OFFSET = 11
_MAX = 63


def _octave_sql() -> str:
    steps = " ".join(
        f"WHEN duration_ms <= {2.0 ** (octave - _OFFSET)!r} THEN {octave}"
        for octave in range(1, _MAX)
    )
    return f"CASE {steps} ELSE {_MAX} END"


def upgrade() -> None:
    op.add_column(
        "task_runs",
        sa.Column("duration_octave", sa.SmallInteger, nullable=False, server_default="0"),
    )
    op.execute(
        f"UPDATE task_runs SET duration_octave = {_octave_sql()} WHERE duration_ms IS NOT NULL"
    )
    op.drop_index("ix_task_runs_duration", "task_runs")
    op.drop_index("ix_task_runs_task_duration", "task_runs")
    op.create_index(
        "ix_task_runs_duration_octave", "task_runs", ["project_id", "duration_octave", "id"]
    )
    op.create_index(
        "ix_task_runs_task_duration_octave",
        "task_runs",
        ["project_id", "task_name", "duration_octave", "id"],
    )


def downgrade() -> None:
    op.drop_index("ix_task_runs_task_duration_octave", "task_runs")
    op.drop_index("ix_task_runs_duration_octave", "task_runs")
    postgresql = op.get_bind().dialect.name == "postgresql"
    ordered = ["duration_ms DESC NULLS LAST", "id DESC"] if postgresql else ["duration_ms", "id"]
    for name, prefix in (
        ("ix_task_runs_duration", ["project_id"]),
        ("ix_task_runs_task_duration", ["project_id", "task_name"]),
    ):
        # As migration 0101 made them.
        op.create_index(name, "task_runs", [sa.text(c) for c in [*prefix, *ordered]])
    with op.batch_alter_table("task_runs") as batch:
        batch.drop_column("duration_octave")
