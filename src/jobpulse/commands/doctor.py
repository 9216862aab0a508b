"""`jobpulse doctor`: one progress line per diagnosis, a summary, non-zero when one fails."""

from __future__ import annotations

import click

from jobpulse.config import ConfigError, load_settings

_MARKS = {"ok": "[ ok ]", "warn": "[warn]", "fail": "[FAIL]", "skip": "[skip]"}


@click.command("doctor")
@click.option("--database", "database_url", default=None, help="Database URL to examine.")
def doctor(database_url: str | None) -> None:
    """Check configuration, database, migrations, writer, evaluator and sources."""
    from jobpulse.doctor import DoctorContext, Finding, Verdict, run_diagnoses

    try:
        settings = load_settings(database_url=database_url)
    except ConfigError as exc:
        click.echo(f"{_MARKS['fail']} configuration: {exc}")
        click.echo("summary: 0 ok, 0 warnings, 1 failed, 0 skipped")
        raise SystemExit(1) from None

    def report(name: str, finding: Finding) -> None:
        click.echo(f"{_MARKS[finding.verdict.value]} {name}: {finding.detail}")

    counts = run_diagnoses(DoctorContext(settings), report)
    click.echo(
        f"summary: {counts[Verdict.OK]} ok, {counts[Verdict.WARN]} warnings, "
        f"{counts[Verdict.FAIL]} failed, {counts[Verdict.SKIP]} skipped"
    )
    if counts[Verdict.FAIL]:
        raise SystemExit(1)
