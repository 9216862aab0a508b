"""The `jobpulse` command."""

from __future__ import annotations

import sys
from typing import Any

import click

from jobpulse.commands import config_io
from jobpulse.commands import tasks as tasks_commands
from jobpulse.commands.doctor import doctor
from jobpulse.commands.queues import queues_commands
from jobpulse.commands.run import run as run_command
from jobpulse.commands.users import users as users_commands
from jobpulse.config import ConfigError, Settings, load_settings


def _settings(**overrides: Any) -> Settings:
    try:
        return load_settings(**overrides)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


database_option = click.option(
    "--database",
    "database_url",
    default=None,
    help="Database URL (default: JOBPULSE_DATABASE_URL or sqlite:///./jobpulse.db).",
)


@click.group()
@click.version_option(package_name="jobpulse")
def main() -> None:
    """jobpulse: monitoring for background jobs, scheduled jobs, workers and queues."""


@main.command()
@click.option("--host", default=None, help="Interface to listen on (default 127.0.0.1).")
@click.option("--port", default=None, type=int, help="Port to listen on (default 8000).")
@click.option(
    "--log-format",
    default=None,
    type=click.Choice(["json", "text"]),
    help="Log lines as JSON (default) or plain text (JOBPULSE_LOG_FORMAT).",
)
@database_option
def serve(
    host: str | None, port: int | None, log_format: str | None, database_url: str | None
) -> None:
    """Run the API, dashboard and engine in one process (migrations run on start)."""
    import logging

    import uvicorn
    from pydantic import ValidationError

    from jobpulse.api.app import create_app
    from jobpulse.config import describe_invalid
    from jobpulse.runtime import Runtime
    from jobpulse.telemetry.logs import configure_logging

    settings = _settings(host=host, port=port, database_url=database_url, log_format=log_format)
    configure_logging(settings.log_format, settings.log_level)
    try:
        runtime = Runtime(settings)
        runtime.start()
        app = create_app(runtime)
    except ValidationError as exc:  # an area's own settings (JOBPULSE_TASKS_*, ...)
        raise click.ClickException(describe_invalid(exc)) from None
    except Exception as exc:
        reason = (str(exc).strip().splitlines() or [""])[0]
        raise click.ClickException(f"cannot start: {type(exc).__name__}: {reason}") from None
    logging.getLogger("jobpulse").info(
        "jobpulse listening on %s (database: %s)",
        settings.base_url,
        _safe_url(settings.database_url),
    )
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        log_config=None,  # configure_logging already routes uvicorn's loggers
        access_log=False,  # the request middleware logs each request with its request id
    )


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    from jobpulse.store.db import normalise_url

    return make_url(normalise_url(url)).render_as_string(hide_password=True)


@main.group()
def keys() -> None:
    """Manage API keys."""


@keys.command("create")
@click.option("--project", default="default", show_default=True, help="Project name.")
@click.option("--read-only", is_flag=True, help="The key can only read (GET).")
@click.option("--name", default="", help="A label for the key.")
@database_option
def keys_create(project: str, read_only: bool, name: str, database_url: str | None) -> None:
    """Print a new API key (stdout, one line). Only its hash is stored."""
    from jobpulse.store.db import make_engine, migrate
    from jobpulse.store.projects import create_key, ensure_project

    engine = make_engine(_settings(database_url=database_url).database_url)
    migrate(engine)
    with engine.begin() as conn:
        key = create_key(conn, ensure_project(conn, project), read_only=read_only, name=name)
    click.echo(key)


@main.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
@database_option
def db_upgrade(database_url: str | None) -> None:
    """Apply pending migrations."""
    from jobpulse.store.db import current_revisions, make_engine, migrate

    engine = make_engine(_settings(database_url=database_url).database_url)
    migrate(engine)
    click.echo(f"schema at revisions {', '.join(sorted(current_revisions(engine)))}")


main.add_command(users_commands)
main.add_command(run_command)

main.add_command(config_io.export_command)
main.add_command(config_io.import_command)
main.add_command(doctor)
main.add_command(tasks_commands.prune_command)
main.add_command(queues_commands)

if __name__ == "__main__":
    sys.exit(main())
