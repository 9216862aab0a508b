"""The deployment files say what works: their commands exist, they parse, backups restore."""

from __future__ import annotations

import re
import shutil
import sqlite3
import subprocess
import tomllib
import uuid
from pathlib import Path
from urllib.parse import unquote

import click
import pytest
import yaml
from click.testing import CliRunner

from jobpulse.cli import main
from jobpulse.runtime import Runtime
from tests.integration.test_metrics import insert_distinct_checks
from tests.services import POSTGRES_URL

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
SCRIPT = next(iter(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]))


def resolve(args: list[str]) -> click.Command:
    """The click command `jobpulse ARGS…` runs; fails when a word names no command."""
    command: click.Command = main
    words = list(args)
    while isinstance(command, click.Group) and words:
        found = command.get_command(click.Context(command), words.pop(0))
        assert found is not None, f"no command 'jobpulse {' '.join(args)}'"
        command = found
    assert not isinstance(command, click.Group), f"'jobpulse {' '.join(args)}' is a group"
    return command


def unit_commands() -> dict[str, list[str]]:
    lines = (DEPLOY / "jobpulse.service").read_text().splitlines()
    found = {}
    for line in lines:
        key, _, value = line.partition("=")
        if key in ("ExecStart", "ExecStartPre"):
            found[key] = value.split()
    return found


def test_the_systemd_unit_runs_existing_commands() -> None:
    commands = unit_commands()
    assert set(commands) == {"ExecStart", "ExecStartPre"}
    for argv in commands.values():
        assert Path(argv[0]).name == SCRIPT
        resolve(argv[1:])
    assert commands["ExecStart"][1:] == ["serve"]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze")
def test_systemd_accepts_the_unit_apart_from_the_binary_not_installed_here() -> None:
    result = subprocess.run(
        ["systemd-analyze", "verify", str(DEPLOY / "jobpulse.service")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    complaints = [
        line
        for line in (result.stdout + result.stderr).splitlines()
        if line.strip() and "is not executable" not in line
    ]
    assert not complaints, complaints


def _dockerfile_json(instruction: str) -> list[str]:
    text = (ROOT / "Dockerfile").read_text()
    match = re.search(rf"^{instruction} (\[.*\])$", text, re.MULTILINE)
    assert match, instruction
    return list(yaml.safe_load(match.group(1)))


def test_the_dockerfile_runs_existing_commands_and_copies_existing_files() -> None:
    entrypoint, command = _dockerfile_json("ENTRYPOINT"), _dockerfile_json("CMD")
    assert entrypoint == [SCRIPT]
    resolve(command)
    text = (ROOT / "Dockerfile").read_text()
    for line in text.splitlines():
        if line.startswith("COPY ") and "--from" not in line:
            for source in line.split()[1:-1]:
                assert (ROOT / source).exists(), source
    probe = re.search(r'"-c", "(.*)"\]', text)
    assert probe is not None
    compile(probe.group(1), "healthcheck", "exec")


def test_the_compose_file_has_postgres_two_nodes_and_a_proxy_that_knows_them() -> None:
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    services = compose["services"]
    assert services["db"]["image"].startswith("postgres:")
    nodes = [name for name, svc in services.items() if svc.get("image") == "jobpulse:latest"]
    nodes.remove("migrate")
    assert len(nodes) == 2
    resolve(services["migrate"]["command"])
    caddyfile = (DEPLOY / "Caddyfile").read_text()
    for name in nodes:
        node = services[name]
        assert node["environment"]["JOBPULSE_DATABASE_URL"].startswith("postgresql://")
        assert "@db:5432/" in node["environment"]["JOBPULSE_DATABASE_URL"]
        assert node["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        compile(node["healthcheck"]["test"][-1], "healthcheck", "exec")
        assert f"{name}:8000" in caddyfile
    assert services["proxy"]["volumes"] == ["./Caddyfile:/etc/caddy/Caddyfile:ro"]
    assert set(compose["volumes"]) == {"pgdata"}


def test_the_deployment_docs_link_only_to_files_that_exist() -> None:
    for doc in ("deployment.md", "configuration.md", "operations.md", "config-as-code.md"):
        text = (ROOT / "docs" / doc).read_text()
        for target in re.findall(r"\]\(([^)#]+)\)", text):
            if "://" not in target:
                assert (ROOT / "docs" / target).resolve().exists(), f"{doc} links to {target}"


def export(database_url: str) -> str:
    result = CliRunner().invoke(main, ["export", "--database", database_url])
    assert result.exit_code == 0, result.output
    return result.output


def _sqlite_backups(runtime: Runtime, tmp_path: Path) -> list[str]:
    source = runtime.settings.database_url.removeprefix("sqlite:///")
    by_cli, by_vacuum = tmp_path / "backup-cli.db", tmp_path / "backup-vacuum.db"
    subprocess.run(["sqlite3", source, f".backup '{by_cli}'"], check=True, timeout=60)
    with sqlite3.connect(source) as conn:
        conn.execute(f"VACUUM INTO '{by_vacuum}'")
    return [f"sqlite:///{by_cli}", f"sqlite:///{by_vacuum}"]


def _postgres_backup(runtime: Runtime, tmp_path: Path) -> list[str]:
    schema = unquote(runtime.settings.database_url).rsplit("search_path=", 1)[1]
    server = POSTGRES_URL.replace("+psycopg", "")
    dump, restored = tmp_path / "jobpulse.dump", f"restore_{uuid.uuid4().hex[:10]}"
    subprocess.run(["pg_dump", "-Fc", "-n", schema, "-f", str(dump), server], check=True)
    base = server.rsplit("/", 1)[0]
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", restored], check=True)
    subprocess.run(["pg_restore", "--no-owner", "-d", f"{base}/{restored}", str(dump)], check=True)
    return [f"{base}/{restored}?options=-csearch_path%3D{schema}"]


def test_a_backup_taken_while_running_restores_the_same_monitors(
    runtime: Runtime, tmp_path: Path
) -> None:
    with runtime.engine.begin() as conn:
        insert_distinct_checks(conn, 25)
    expected = export(runtime.settings.database_url)
    if runtime.engine.dialect.name == "sqlite":
        if shutil.which("sqlite3") is None:
            pytest.skip("no sqlite3 command")
        copies = _sqlite_backups(runtime, tmp_path)
    else:
        if shutil.which("pg_dump") is None:
            pytest.skip("no pg_dump command")
        copies = _postgres_backup(runtime, tmp_path)
    try:
        for copy in copies:
            assert export(copy) == expected
    finally:
        if runtime.engine.dialect.name == "postgresql":
            name = copies[0].split("?")[0].rsplit("/", 1)[1]
            subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", name], check=True)
