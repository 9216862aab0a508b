"""`jobpulse export` and `jobpulse import FILE [--dry-run] [--prune]`: monitors as code."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TextIO

import click

from jobpulse.config import ConfigError, load_settings

if TYPE_CHECKING:
    from jobpulse.config_io.plan import Change
    from jobpulse.config_io.sections import Section
    from jobpulse.runtime import Runtime

_database_option = click.option(
    "--database",
    "database_url",
    default=None,
    help="Database URL (default: JOBPULSE_DATABASE_URL or sqlite:///./jobpulse.db).",
)


@contextmanager
def _started_runtime(database_url: str | None) -> Iterator[Runtime]:
    from jobpulse.runtime import Runtime

    try:
        settings = load_settings(database_url=database_url)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    runtime = Runtime(settings)
    runtime.start(run_loops=False)  # migrations and the writer; no background loops
    try:
        yield runtime
    finally:
        runtime.stop()
        runtime.engine.dispose()


@click.command("export")
@click.option("--project", default="default", show_default=True, help="Project to export.")
@_database_option
def export_command(project: str, database_url: str | None) -> None:
    """Print the project's monitors as YAML (redirect it to a file kept in git)."""
    from jobpulse.config_io.document import dump, export_document
    from jobpulse.config_io.sections import FileError

    with _started_runtime(database_url) as runtime, runtime.engine.connect() as conn:
        try:
            document = export_document(conn, project)
        except FileError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(dump(document), nl=False)


@click.command("import")
@click.argument("file", type=click.File("r", encoding="utf-8"))
@click.option("--dry-run", is_flag=True, help="Print the plan; change nothing.")
@click.option("--prune", is_flag=True, help="Delete what the database has and the file lacks.")
@_database_option
def import_command(file: TextIO, dry_run: bool, prune: bool, database_url: str | None) -> None:
    """Apply a monitors file (or - for stdin) idempotently, printing the plan first."""
    from jobpulse.config_io import document as monitors
    from jobpulse.config_io.plan import has_effect, summary
    from jobpulse.config_io.sections import FileError

    with _started_runtime(database_url) as runtime:
        with runtime.engine.connect() as conn:
            sections = monitors.available_sections(conn)
            try:
                desired = monitors.parse(file.read(), sections)
                changes = monitors.plan(conn, desired, sections, prune=prune)
            except FileError as exc:
                raise click.ClickException(
                    f"{file.name}: cannot apply, nothing changed:\n"
                    + "\n".join(f"  {where}: {what}" for where, what in exc.problems)
                ) from None
        click.echo(f"project {desired.project}:")
        for change in changes:
            click.echo(change.describe())
        click.echo(summary(changes))
        if dry_run:
            click.echo("dry run: nothing changed")
        elif not has_effect(changes):
            click.echo("nothing to do")
        else:
            _apply(runtime, desired.project, changes, sections)
            click.echo("applied")


def _apply(runtime: Runtime, project: str, changes: list[Change], sections: list[Section]) -> None:
    from jobpulse.config_io.document import apply

    try:
        apply(runtime, project, changes, sections)
    except Exception as exc:
        reason = (str(exc).strip().splitlines() or [""])[0]
        raise click.ClickException(
            f"stopped: {type(exc).__name__}: {reason} "
            "(the changes before it are applied; fix and import again)"
        ) from None
