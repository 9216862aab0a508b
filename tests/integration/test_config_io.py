"""`jobpulse export` / `jobpulse import`: round trip, plan, dry run and prune, on both databases."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result
from sqlalchemy import create_engine, func, select, text

from jobpulse.cli import main
from jobpulse.store.tables import checks, projects
from tests.services import POSTGRES_URL

MONITORS = """
version: 1
project: default
checks:
  - slug: nightly-backup
    name: Nightly backup
    kind: cron
    schedule: "0 3 * * *"
    tz: Europe/Paris
    grace: 1800
    tags: [prod, db]
    description: pg_dump to the bucket
  - slug: queue-drain
    name: Queue drain
    period: 300
    grace: 60.5
    max_runtime: 120
  - uuid: 2f1c7a4e-3b7d-4a57-9d0e-0c6a1c0f9a11
    name: legacy heartbeat
    period: 3600
    grace: 600
"""


@pytest.fixture
def empty_database_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A second empty database of the same kind as `database_url`."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'second.db'}"
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def jobpulse(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def write(path: Path, content: str) -> Path:
    path.write_text(content, encoding="utf-8")
    return path


def export(database_url: str) -> str:
    result = jobpulse("export", "--database", database_url)
    assert result.exit_code == 0, result.output
    return result.output


def count_checks(database_url: str) -> int:
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(checks)).scalar_one())
    finally:
        engine.dispose()


def test_export_then_import_into_an_empty_database_then_export_gives_the_same_file(
    database_url: str, empty_database_url: str, tmp_path: Path
) -> None:
    applied = jobpulse(
        "import", str(write(tmp_path / "m.yaml", MONITORS)), "--database", database_url
    )
    assert applied.exit_code == 0, applied.output
    first = export(database_url)

    moved = jobpulse(
        "import", str(write(tmp_path / "exported.yaml", first)), "--database", empty_database_url
    )
    assert moved.exit_code == 0, moved.output
    assert "3 to create" in moved.output

    assert export(empty_database_url) == first
    document = yaml.safe_load(first)
    assert [c.get("slug") or c.get("uuid") for c in document["checks"]] == [
        "nightly-backup",
        "queue-drain",
        "2f1c7a4e-3b7d-4a57-9d0e-0c6a1c0f9a11",
    ]
    assert document["checks"][1]["grace"] == 60.5


def test_importing_the_same_file_twice_changes_nothing_the_second_time(
    database_url: str, tmp_path: Path
) -> None:
    path = write(tmp_path / "m.yaml", MONITORS)
    jobpulse("import", str(path), "--database", database_url)
    again = jobpulse("import", str(path), "--database", database_url)
    assert again.exit_code == 0
    assert "3 unchanged" in again.output and "nothing to do" in again.output


def test_the_plan_names_each_change_and_dry_run_applies_none(
    database_url: str, tmp_path: Path
) -> None:
    jobpulse("import", str(write(tmp_path / "m.yaml", MONITORS)), "--database", database_url)
    before = export(database_url)
    edited = MONITORS.replace("grace: 1800", "grace: 900").replace(
        "  - slug: queue-drain", "  - slug: fresh-one\n    name: Fresh\n  - slug: queue-drain"
    )
    result = jobpulse(
        "import", str(write(tmp_path / "e.yaml", edited)), "--dry-run", "--database", database_url
    )
    assert result.exit_code == 0, result.output
    assert "~ update    checks nightly-backup: grace 1800 → 900" in result.output
    assert "+ create    checks fresh-one" in result.output
    assert "plan: 1 to create, 1 to update, 0 to delete, 2 unchanged" in result.output
    assert "dry run: nothing changed" in result.output
    assert export(database_url) == before


def test_dry_run_into_an_empty_database_creates_not_even_the_project(
    empty_database_url: str, tmp_path: Path
) -> None:
    text_with_project = MONITORS.replace("project: default", "project: billing")
    path = write(tmp_path / "m.yaml", text_with_project)
    result = jobpulse("import", str(path), "--dry-run", "--database", empty_database_url)
    assert result.exit_code == 0, result.output
    engine = create_engine(empty_database_url)
    with engine.connect() as conn:
        names = set(conn.execute(select(projects.c.name)).scalars())
    engine.dispose()
    assert "billing" not in names
    assert count_checks(empty_database_url) == 0


def test_prune_deletes_what_the_file_lacks_and_only_with_prune(
    database_url: str, tmp_path: Path
) -> None:
    jobpulse("import", str(write(tmp_path / "m.yaml", MONITORS)), "--database", database_url)
    only_one = write(
        tmp_path / "one.yaml",
        "version: 1\nchecks:\n  - slug: queue-drain\n    name: Queue drain\n"
        "    period: 300\n    grace: 60.5\n    max_runtime: 120\n",
    )
    kept = jobpulse("import", str(only_one), "--database", database_url)
    assert "2 not in the file (kept)" in kept.output
    assert count_checks(database_url) == 3

    pruned = jobpulse("import", str(only_one), "--prune", "--database", database_url)
    assert pruned.exit_code == 0, pruned.output
    assert "- delete    checks nightly-backup" in pruned.output
    assert count_checks(database_url) == 1
    assert [c["slug"] for c in yaml.safe_load(export(database_url))["checks"]] == ["queue-drain"]


def test_a_bad_file_lists_every_problem_and_changes_nothing(
    database_url: str, tmp_path: Path
) -> None:
    bad = """
version: 1
checks:
  - slug: a
    name: A
  - name: no key
  - slug: b
    name: B
    kind: cron
    schedule: "61 * * * *"
  - slug: a
    name: A again
  - slug: c
    name: C
    colour: blue
  - slug: d
    name: D
    grace: -5
rules_typo: []
"""
    result = jobpulse("import", str(write(tmp_path / "bad.yaml", bad)), "--database", database_url)
    assert result.exit_code == 1
    for fragment in (
        "checks[5].grace: must not be negative",
        "checks[1]: a check needs a slug",
        "checks[2].schedule",
        "checks[3]: a appears twice",
        "checks[4].colour",
        "rules_typo: unknown section",
    ):
        assert fragment in result.output, result.output
    assert count_checks(database_url) == 0


def test_import_reads_standard_input_for_a_dash(database_url: str) -> None:
    result = CliRunner().invoke(main, ["import", "-", "--database", database_url], input=MONITORS)
    assert result.exit_code == 0, result.output
    assert "3 to create" in result.output and count_checks(database_url) == 3
