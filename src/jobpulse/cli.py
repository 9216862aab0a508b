"""The `jobpulse` command."""

from __future__ import annotations

import sys
from typing import Any

import click

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
@database_option
def serve(host: str | None, port: int | None, database_url: str | None) -> None:
    """Run the API, dashboard and engine in one process (migrations run on start)."""
    import uvicorn

    from jobpulse.api.app import create_app
    from jobpulse.runtime import Runtime

    settings = _settings(host=host, port=port, database_url=database_url)
    runtime = Runtime(settings)
    try:
        runtime.start()
    except Exception as exc:
        raise click.ClickException(f"cannot start: {type(exc).__name__}: {exc}") from None
    click.echo(
        f"jobpulse listening on {settings.base_url} (database: {_safe_url(settings.database_url)})",
        err=True,
    )
    uvicorn.run(
        create_app(runtime),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        access_log=False,
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


if __name__ == "__main__":
    sys.exit(main())
