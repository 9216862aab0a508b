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
@click.option(
    "--workers",
    default=None,
    type=click.IntRange(1, 64),
    help="Processes serving the port, each with its own writer (default 1, JOBPULSE_WORKERS).",
)
@database_option
def serve(
    host: str | None,
    port: int | None,
    log_format: str | None,
    workers: int | None,
    database_url: str | None,
) -> None:
    """Run the API, dashboard and engine (migrations run on start)."""
    # Imported before logging is configured: importing alembic logs chatter we don't want.
    from jobpulse.api.app import create_app  # noqa: F401
    from jobpulse.telemetry.logs import configure_logging

    settings = _settings(
        host=host, port=port, database_url=database_url, log_format=log_format, workers=workers
    )
    configure_logging(settings.log_format, settings.log_level)
    if settings.workers == 1:
        _serve_in_process(settings)
    else:
        _serve_workers(settings)


def _listening(settings: Settings) -> None:
    import logging

    logging.getLogger("jobpulse").info(
        "jobpulse listening on %s (database: %s, %d worker%s)",
        settings.base_url,
        _safe_url(settings.database_url),
        settings.workers,
        "" if settings.workers == 1 else "s",
    )


def _cannot_start(exc: Exception) -> click.ClickException:
    from pydantic import ValidationError

    from jobpulse.config import describe_invalid

    if isinstance(exc, ValidationError):  # an area's own settings (JOBPULSE_TASKS_*, ...)
        return click.ClickException(describe_invalid(exc))
    reason = (str(exc).strip().splitlines() or [""])[0]
    return click.ClickException(f"cannot start: {type(exc).__name__}: {reason}")


def _serve_in_process(settings: Settings) -> None:
    import uvicorn

    from jobpulse.api.app import create_app
    from jobpulse.runtime import Runtime

    try:
        runtime = Runtime(settings)
        runtime.start()
        app = create_app(runtime)
    except Exception as exc:
        raise _cannot_start(exc) from None
    _listening(settings)
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        log_config=None,  # configure_logging already routes uvicorn's loggers
        access_log=False,  # the request middleware logs each request with its request id
    )


def _serve_workers(settings: Settings) -> None:
    """N processes on one port, each with its own SO_REUSEPORT socket (serve_workers.py).
    Migrations run here first, once; each worker then runs a whole node on the shared
    database, with leadership deciding which one runs the alert loop, collectors and probes."""
    import os

    from jobpulse.api.app import app_from_env
    from jobpulse.serve_workers import Supervisor
    from jobpulse.store.db import make_engine, migrate

    try:
        engine = make_engine(settings.database_url)
        try:
            migrate(engine)
        finally:
            engine.dispose()
        app_from_env()  # fail here, with one clear line, rather than in N workers
    except Exception as exc:
        raise _cannot_start(exc) from None
    # The workers read their settings from the environment, like any jobpulse process.
    for name in ("database_url", "host", "port", "log_format", "workers"):
        os.environ[f"JOBPULSE_{name.upper()}"] = str(getattr(settings, name))
    supervisor = Supervisor(settings.workers, settings.host, settings.port, settings.log_level)
    _listening(settings)
    try:
        status = supervisor.run()
    except OSError as exc:
        raise click.ClickException(
            f"cannot listen on {settings.host}:{settings.port}: {exc.strerror or exc}"
        ) from None
    if status:
        raise SystemExit(status)


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
    # IMMEDIATE on SQLite: it reads, then writes; with a server writing to the same file,
    # a plain BEGIN fails at once ("database is locked") when the server commits between.
    with engine.execution_options(sqlite_immediate=True).begin() as conn:
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
