"""`jobpulse users create`: dashboard accounts from the command line (the first admin too)."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from jobpulse.config import ConfigError, load_settings


@click.group()
def users() -> None:
    """Manage dashboard users."""


@users.command("create")
@click.option("--email", required=True, help="The user's email (their login).")
@click.option(
    "--password",
    envvar="JOBPULSE_USER_PASSWORD",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="Password (default: JOBPULSE_USER_PASSWORD, else asked for).",
)
@click.option("--admin", is_flag=True, help="May create projects; owns the project given.")
@click.option("--project", default="default", show_default=True, help="Project to join.")
@click.option(
    "--role",
    type=click.Choice(["owner", "member", "read-only"]),
    default=None,
    help="Role in the project (default: owner for --admin, else member).",
)
@click.option("--database", "database_url", default=None, help="Database URL.")
def create(
    email: str,
    password: str,
    admin: bool,
    project: str,
    role: str | None,
    database_url: str | None,
) -> None:
    """Create a user and add them to a project."""
    from jobpulse.store.db import make_engine, migrate
    from jobpulse.store.members import Membership, upsert_membership
    from jobpulse.store.projects import ensure_project
    from jobpulse.store.users import (
        MIN_PASSWORD_LENGTH,
        EmailTaken,
        NewUser,
        hash_password,
        insert_user,
        valid_email,
    )

    if not valid_email(email.strip()):
        raise click.BadParameter("not an email address", param_hint="--email")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise click.BadParameter(
            f"must be at least {MIN_PASSWORD_LENGTH} characters", param_hint="--password"
        )
    try:
        settings = load_settings(database_url=database_url)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    engine = make_engine(settings.database_url)
    migrate(engine)
    now = datetime.now(UTC)
    try:
        with engine.execution_options(sqlite_immediate=True).begin() as conn:  # as keys create
            user_id = insert_user(conn, NewUser(email, hash_password(password), admin, now))
            project_id = ensure_project(conn, project)
            membership_role = role or ("owner" if admin else "member")
            upsert_membership(conn, Membership(project_id, user_id, membership_role, now))
    except EmailTaken as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        engine.dispose()
    click.echo(
        f"created {'admin ' if admin else ''}user {email.strip().lower()} ({project}: "
        f"{membership_role})"
    )


@users.command("password")
@click.option("--email", required=True, help="The user's email.")
@click.option(
    "--password",
    envvar="JOBPULSE_USER_PASSWORD",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="New password (default: JOBPULSE_USER_PASSWORD, else asked for).",
)
@click.option("--database", "database_url", default=None, help="Database URL.")
def password(email: str, password: str, database_url: str | None) -> None:
    """Set a user's password (for a forgotten one); their open sessions are ended."""
    from sqlalchemy import delete

    from jobpulse.store.db import make_engine, migrate
    from jobpulse.store.users import MIN_PASSWORD_LENGTH, find_user, hash_password, set_password
    from jobpulse.store.users_tables import web_sessions

    if len(password) < MIN_PASSWORD_LENGTH:
        raise click.BadParameter(
            f"must be at least {MIN_PASSWORD_LENGTH} characters", param_hint="--password"
        )
    try:
        settings = load_settings(database_url=database_url)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    engine = make_engine(settings.database_url)
    migrate(engine)
    try:
        with engine.execution_options(sqlite_immediate=True).begin() as conn:  # as keys create
            user = find_user(conn, email)
            if user is None:
                raise click.ClickException(f"no user with email {email.strip().lower()!r}")
            set_password(conn, (user["id"], hash_password(password)))
            conn.execute(delete(web_sessions).where(web_sessions.c.user_id == user["id"]))
    finally:
        engine.dispose()
    click.echo(f"password changed for {user['email']}")
