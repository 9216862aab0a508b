"""`jobpulse prune`: delete task runs older than N days (hourly rollups are kept longer)."""

from __future__ import annotations

from datetime import UTC, datetime

import click
from pydantic import ValidationError

from jobpulse.config import ConfigError, load_settings


@click.command("prune")
@click.option(
    "--days",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Keep task runs this many days (default JOBPULSE_TASKS_RETENTION_DAYS or 30).",
)
@click.option("--database", "database_url", default=None, help="Database URL.")
def prune_command(days: float | None, database_url: str | None) -> None:
    """Delete task runs and their attempts older than --days; keep hourly rollups."""
    from jobpulse.store.db import make_engine, migrate
    from jobpulse.store.tasks_retention import prune, request_for
    from jobpulse.store.writer import GroupCommitWriter
    from jobpulse.tasks_config import TaskLogSettings

    try:
        settings = load_settings(database_url=database_url)
        tasks = TaskLogSettings()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    except ValidationError as exc:
        first = exc.errors()[0]
        field = "JOBPULSE_TASKS_" + ".".join(str(p) for p in first["loc"]).upper()
        raise click.ClickException(f"invalid setting {field}: {first['msg']}") from None
    keep_days = days if days is not None else tasks.retention_days
    engine = make_engine(settings.database_url)
    migrate(engine)
    writer = GroupCommitWriter(engine)
    writer.start()
    try:
        request = request_for(datetime.now(UTC), keep_days, tasks.rollup_retention_days)
        result = prune(writer, request)
    finally:
        writer.stop()
        engine.dispose()
    click.echo(
        f"pruned {result.runs} task runs and {result.rollups} rollup rows "
        f"older than {keep_days:g} days"
    )
