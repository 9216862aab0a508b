"""Monitors files with sources, channels, routes, rules and silences: secrets by reference."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from jobpulse.cli import main
from tests.integration.test_config_io import (  # noqa: F401  (fixture)
    empty_database_url,
    export,
    jobpulse,
    write,
)

FULL = """
version: 1
project: default
sources:
  - name: main-redis
    library: rq
    url: ${MAIN_REDIS_URL}
    queues: [default, emails]
  - name: open-redis
    library: celery
    url: redis://127.0.0.1:6379/3
channels:
  - name: ops-slack
    kind: slack
    config:
      webhook_url: ${SLACK_WEBHOOK_URL}
  - name: hooks
    kind: webhook
    config:
      url: https://hooks.example.com/jobpulse
      headers: {Authorization: "${HOOK_AUTH}"}
routes:
  - name: critical-to-slack
    severities: [critical]
    matchers: {queue: "billing-*"}
    channels: [ops-slack, hooks]
probes:
  - name: api-ready
    url: https://api.example.com/readyz
    interval: 60
    tags: [prod]
rules:
  - name: billing backlog
    kind: queue_backlog
    severity: warning
    scope: {kind: queue, value: billing}
    params: {max_depth: 500}
    window: 600
silences:
  - comment: database migration
    matchers: {queue: billing}
    starts_at: "2030-01-01T00:00:00Z"
    ends_at: "2030-01-01T02:00:00Z"
"""

SECRETS = {
    "MAIN_REDIS_URL": "redis://:redis-password@10.0.0.5:6379/0",
    "SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T000/B000/slack-token",
    "HOOK_AUTH": "Bearer hook-token",
}


@pytest.fixture
def secrets(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    return SECRETS


def test_every_section_round_trips_and_secrets_leave_only_as_references(
    database_url: str,
    empty_database_url: str,  # noqa: F811
    tmp_path: Path,
    secrets: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    applied = jobpulse(
        "import", str(write(tmp_path / "full.yaml", FULL)), "--database", database_url
    )
    assert applied.exit_code == 0, applied.output
    first = export(database_url)
    for secret in ("redis-password", "slack-token", "hook-token"):
        assert secret not in first and secret not in applied.output
    document = yaml.safe_load(first)
    assert document["sources"][0]["url"] == "${JOBPULSE_SECRET_SOURCE_MAIN_REDIS_URL}"
    assert document["sources"][1]["url"] == "redis://127.0.0.1:6379/3"
    slack = next(c for c in document["channels"] if c["name"] == "ops-slack")
    assert slack["config"]["webhook_url"] == "${JOBPULSE_SECRET_CHANNEL_OPS_SLACK_WEBHOOK_URL}"
    assert document["routes"][0]["channels"] == ["ops-slack", "hooks"]
    assert document["rules"][0]["params"] == {"max_depth": 500}
    assert document["probes"] == [
        {
            "name": "api-ready",
            "url": "https://api.example.com/readyz",
            "interval": 60,
            "timeout": 10,
            "tags": ["prod"],
        }
    ]

    # The exported file names its own variables; with them set, it rebuilds the same monitors.
    monkeypatch.setenv("JOBPULSE_SECRET_SOURCE_MAIN_REDIS_URL", secrets["MAIN_REDIS_URL"])
    monkeypatch.setenv(
        "JOBPULSE_SECRET_CHANNEL_OPS_SLACK_WEBHOOK_URL", secrets["SLACK_WEBHOOK_URL"]
    )
    monkeypatch.setenv("JOBPULSE_SECRET_CHANNEL_HOOKS_HEADERS_AUTHORIZATION", secrets["HOOK_AUTH"])
    exported = write(tmp_path / "exported.yaml", first)
    moved = jobpulse("import", str(exported), "--database", empty_database_url)
    assert moved.exit_code == 0, moved.output
    assert export(empty_database_url) == first

    again = jobpulse("import", str(exported), "--database", database_url)
    assert "nothing to do" in again.output, again.output


def test_a_changed_secret_is_planned_without_being_printed(
    database_url: str, tmp_path: Path, secrets: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path / "full.yaml", FULL)
    jobpulse("import", str(path), "--database", database_url)
    monkeypatch.setenv("SLACK_WEBHOOK_URL", "https://hooks.slack.com/services/T0/B0/new-token")
    result = jobpulse("import", str(path), "--dry-run", "--database", database_url)
    assert "~ update    channels ops-slack: config" in result.output, result.output
    assert "new-token" not in result.output and "slack-token" not in result.output


def test_an_unset_secret_variable_stops_the_import(database_url: str, tmp_path: Path) -> None:
    result = jobpulse(
        "import", str(write(tmp_path / "full.yaml", FULL)), "--database", database_url
    )
    assert result.exit_code == 1
    assert "sources[0].url: environment variable MAIN_REDIS_URL is not set" in result.output
    assert "channels[0].config.webhook_url: environment variable SLACK_WEBHOOK_URL" in result.output


def test_prune_removes_routes_before_the_channels_they_use(
    database_url: str, tmp_path: Path, secrets: dict[str, str]
) -> None:
    jobpulse("import", str(write(tmp_path / "full.yaml", FULL)), "--database", database_url)
    empty = write(tmp_path / "empty.yaml", "version: 1\n")
    result = jobpulse("import", str(empty), "--prune", "--database", database_url)
    assert result.exit_code == 0, result.output
    document = yaml.safe_load(export(database_url))
    assert document["channels"] == [] and document["routes"] == [] and document["sources"] == []
    assert all(rule.get("builtin") for rule in document["rules"])


def test_the_built_in_rule_moves_as_the_built_in_rule(
    database_url: str,
    empty_database_url: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    from datetime import UTC, datetime

    from sqlalchemy import func, select

    from jobpulse.store.alert_tick import ensure_builtin_rules
    from jobpulse.store.alerts_tables import alert_rules
    from jobpulse.store.db import make_engine

    export(database_url)  # creates the schema and the default project
    source = make_engine(database_url)
    with source.begin() as conn:
        ensure_builtin_rules(conn, datetime.now(UTC))
    source.dispose()
    first = export(database_url)
    assert yaml.safe_load(first)["rules"][0]["builtin"] is True

    moved = jobpulse(
        "import", str(write(tmp_path / "m.yaml", first)), "--database", empty_database_url
    )
    assert moved.exit_code == 0, moved.output
    target = make_engine(empty_database_url)
    with target.begin() as conn:
        ensure_builtin_rules(conn, datetime.now(UTC))  # what the alert loop does on a tick
        count = conn.execute(select(func.count()).select_from(alert_rules)).scalar_one()
    target.dispose()
    assert count == 1
    assert export(empty_database_url) == first


def test_two_channels_with_one_name_are_reported_not_guessed(
    database_url: str, tmp_path: Path
) -> None:
    from datetime import UTC, datetime

    from sqlalchemy import insert

    from jobpulse.store.alerts_tables import alert_channels
    from jobpulse.store.db import make_engine
    from jobpulse.store.projects import ensure_project

    export(database_url)  # creates the schema
    engine = make_engine(database_url)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        for _ in range(2):
            conn.execute(
                insert(alert_channels).values(
                    project_id=ensure_project(conn),
                    name="ops",
                    kind="slack",
                    config={"webhook_url": "https://hooks.slack.com/services/x"},
                    enabled=True,
                    created_at=now,
                    updated_at=now,
                )
            )
    engine.dispose()
    result = jobpulse(
        "import", str(write(tmp_path / "e.yaml", "version: 1\n")), "--database", database_url
    )
    assert result.exit_code == 1
    assert "channels: several named 'ops'" in result.output
    exported = CliRunner().invoke(main, ["export", "--database", database_url])
    assert exported.exit_code == 1 and "several named 'ops'" in exported.output
