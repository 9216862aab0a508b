"""`jobpulse queues probe` (read a broker once and print what jobpulse sees) and
`jobpulse queues downsample` (fold old queue samples now rather than in the background)."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime

import click

from jobpulse.collectors.base import LIBRARIES
from jobpulse.config import ConfigError, load_settings


@click.group("queues")
def queues_commands() -> None:
    """Queue and worker monitoring (docs/queues.md)."""


@queues_commands.command("probe")
@click.option("--library", type=click.Choice(LIBRARIES), required=True)
@click.option("--url", required=True, help="Broker URL, e.g. redis://localhost:6379/0.")
@click.option("--queue", "queues", multiple=True, help="A queue to read (repeatable).")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=5.0, show_default=True)
def probe_command(library: str, url: str, queues: tuple[str, ...], timeout: float) -> None:
    """Sample a broker once, read-only, and print the sample as JSON (nothing is stored)."""
    from jobpulse.collectors import SourceConfig, make_collector

    config = SourceConfig("probe", library, url, queues, timeout_seconds=timeout)
    try:
        collector = make_collector(config)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    sample = collector.sample(datetime.now(UTC))
    collector.close()
    click.echo(json.dumps(asdict(sample), default=str, indent=2))
    if sample.error:
        raise SystemExit(1)


@queues_commands.command("downsample")
@click.option("--database", "database_url", default=None, help="Database URL.")
def downsample_command(database_url: str | None) -> None:
    """Fold queue samples older than 2 days into minutes, older than 30 days into hours."""
    from jobpulse.engine.collectors import maintain_queues
    from jobpulse.store.db import make_engine, migrate
    from jobpulse.store.writer import GroupCommitWriter

    try:
        settings = load_settings(database_url=database_url)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    engine = make_engine(settings.database_url)
    migrate(engine)
    writer = GroupCommitWriter(engine)
    writer.start()
    folded, now = 0, datetime.now(UTC)
    try:
        while batch := writer.run_sync(maintain_queues, now):
            folded += batch
    finally:
        writer.stop()
        engine.dispose()
    click.echo(f"folded {folded} queue samples and forgot long-gone workers")
