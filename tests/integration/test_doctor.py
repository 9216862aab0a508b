"""`jobpulse doctor` on SQLite and PostgreSQL: healthy, behind on migrations, unreachable."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from alembic import command
from click.testing import CliRunner, Result
from sqlalchemy import insert, update

from jobpulse.cli import main
from jobpulse.runtime import Runtime
from jobpulse.store.db import _alembic_config, make_engine
from jobpulse.store.tables import checks
from tests.integration.test_metrics import insert_distinct_checks


def doctor(database_url: str) -> Result:
    return CliRunner().invoke(main, ["doctor", "--database", database_url])


def lines_of(result: Result) -> list[str]:
    return result.output.strip().splitlines()


def test_a_healthy_node_passes_with_a_line_per_check(runtime: Runtime, api_key: str) -> None:
    result = doctor(runtime.settings.database_url)
    assert result.exit_code == 0, result.output
    lines = lines_of(result)
    for name in ("configuration", "database", "migrations", "writer", "evaluator", "api keys"):
        assert any(line.startswith("[ ok ] " + name) for line in lines), result.output
    assert lines[-1].startswith("summary: ") and " 0 failed" in lines[-1]


def test_pending_migrations_fail_and_say_what_to_run(database_url: str) -> None:
    engine = make_engine(database_url)
    command.upgrade(_alembic_config(engine), "0001")
    engine.dispose()
    result = doctor(database_url)
    assert result.exit_code == 1
    assert any(
        line.startswith("[FAIL] migrations") and "jobpulse db upgrade" in line
        for line in lines_of(result)
    ), result.output


def test_overdue_checks_warn_that_no_server_may_be_running(runtime: Runtime, api_key: str) -> None:
    with runtime.engine.begin() as conn:
        insert_distinct_checks(conn, 3)
        conn.execute(update(checks).values(next_deadline_at=datetime.now(UTC) - timedelta(hours=1)))
    result = doctor(runtime.settings.database_url)
    assert result.exit_code == 0, result.output
    assert any(
        line.startswith("[warn] evaluator") and "3 of 3" in line for line in lines_of(result)
    ), result.output


def test_a_missing_sqlite_file_fails_without_creating_it(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.db"
    result = doctor(f"sqlite:///{path}")
    assert result.exit_code == 1
    assert lines_of(result)[1].startswith("[FAIL] database")
    assert not path.exists()


def test_an_unreachable_server_fails_with_one_line() -> None:
    result = doctor("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2")
    assert result.exit_code == 1
    assert any(line.startswith("[FAIL] database: unreachable") for line in lines_of(result))


def test_a_bad_setting_is_reported_as_a_failed_check(tmp_path: Path) -> None:
    result = doctor("mysql://x")
    assert result.exit_code == 1
    assert lines_of(result)[0].startswith("[FAIL] configuration: invalid setting")


def test_a_channel_missing_its_config_fails_and_a_failing_source_warns(
    runtime: Runtime, api_key: str
) -> None:
    from jobpulse.store.alerts_tables import alert_channels
    from jobpulse.store.projects import ensure_project
    from tests.integration.test_world_metrics_queues import add_source

    now = datetime.now(UTC)
    with runtime.engine.begin() as conn:
        conn.execute(
            insert(alert_channels).values(
                project_id=ensure_project(conn),
                name="ops-slack",
                kind="slack",
                config={},
                enabled=True,
                created_at=now,
                updated_at=now,
            )
        )
        add_source(conn, "main-redis", now, error="Connection refused")
    result = doctor(runtime.settings.database_url)
    assert result.exit_code == 1
    lines = lines_of(result)
    assert any(line.startswith("[FAIL] channels: ops-slack (slack): webhook_url") for line in lines)
    assert any(
        line.startswith("[warn] sources: main-redis: Connection refused") for line in lines
    ), result.output


def test_a_notice_waiting_for_long_warns_that_no_notifier_may_run(
    runtime: Runtime, api_key: str
) -> None:
    from jobpulse.store.alerts_tables import alert_outbox
    from jobpulse.store.projects import ensure_project

    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    with runtime.engine.begin() as conn:
        conn.execute(
            insert(alert_outbox).values(
                project_id=ensure_project(conn),
                notice_id="n1",
                kind="firing",
                payload={},
                status="pending",
                attempts=0,
                next_attempt_at=an_hour_ago,
                created_at=an_hour_ago,
            )
        )
    result = doctor(runtime.settings.database_url)
    assert any(
        line.startswith("[warn] outbox: 1 notice(s) waiting") and "60 min" in line
        for line in lines_of(result)
    ), result.output
