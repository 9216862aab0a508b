"""Request ids in and out, one access line per request, and a server that logs JSON safely."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from jobpulse.telemetry.logs import make_handler
from tests.server import create_key, free_port, running_server


@pytest.fixture
def access_lines() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    logger = logging.getLogger("jobpulse.access")
    handler = make_handler("json", stream)
    logger.addHandler(handler)
    previous = logger.level
    logger.setLevel(logging.INFO)
    yield stream
    logger.removeHandler(handler)
    logger.setLevel(previous)


def entries(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line]


def test_a_caller_request_id_is_echoed_and_logged_with_the_project(
    client: TestClient, access_lines: io.StringIO
) -> None:
    response = client.get("/api/v1/checks", headers={"X-Request-Id": "trace-42"})
    assert response.headers["x-request-id"] == "trace-42"
    (entry,) = entries(access_lines)
    assert entry["request_id"] == "trace-42"
    assert entry["route"] == "/api/v1/checks" and entry["status"] == 200
    assert entry["project"]


def test_a_missing_or_unsafe_request_id_is_replaced(client: TestClient) -> None:
    fresh = client.get("/healthz").headers["x-request-id"]
    unsafe = client.get("/healthz", headers={"X-Request-Id": "a b\tc"}).headers["x-request-id"]
    assert len(fresh) == 32 and len(unsafe) == 32 and fresh != unsafe


def test_ping_urls_and_bodies_never_reach_the_logs(
    client: TestClient, access_lines: io.StringIO
) -> None:
    check = client.post("/api/v1/checks", json={"name": "nightly"}).json()
    client.post(f"/ping/{check['uuid']}/fail", content=b"password=hunter2 in the output")
    text = access_lines.getvalue()
    assert check["uuid"] not in text and "hunter2" not in text
    assert all(entry["route"] != f"/ping/{check['uuid']}/fail" for entry in entries(access_lines))


def test_check_routes_log_which_check_without_its_full_uuid(
    client: TestClient, access_lines: io.StringIO
) -> None:
    check = client.post("/api/v1/checks", json={"name": "nightly"}).json()
    client.get(f"/api/v1/checks/{check['uuid']}")
    entry = entries(access_lines)[-1]
    assert entry["check"] == check["uuid"][:8] + "…"
    assert check["uuid"] not in access_lines.getvalue()


def serve(env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "jobpulse.cli", "serve"],
        env={
            "PATH": "/usr/bin:/bin",
            "JOBPULSE_DATABASE_URL": f"sqlite:///{tmp_path}/x.db",
            "JOBPULSE_PORT": str(free_port()),
            **env,
        },
        capture_output=True,
        text=True,
        timeout=30,
    )


@pytest.mark.parametrize(
    ("name", "bad", "mentioned"),
    [
        ("JOBPULSE_PORT", "eighty", "JOBPULSE_PORT"),
        ("JOBPULSE_LOG_FORMAT", "xml", "JOBPULSE_LOG_FORMAT"),
        ("JOBPULSE_DATABASE_URL", "mysql://root:hunter2@db/x", "JOBPULSE_DATABASE_URL"),
        ("JOBPULSE_EVALUATOR_INTERVAL_SECONDS", "-1", "JOBPULSE_EVALUATOR_INTERVAL_SECONDS"),
        ("JOBPULSE_TASKS_RETENTION_DAYS", "soon", "JOBPULSE_TASKS_RETENTION_DAYS"),
        ("JOBPULSE_ALERTS_INTERVAL_SECONDS", "0", "JOBPULSE_ALERTS_INTERVAL_SECONDS"),
    ],
)
def test_a_bad_setting_stops_start_up_with_one_clear_line(
    name: str, bad: str, mentioned: str, tmp_path: Path
) -> None:
    result = serve({name: bad}, tmp_path)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert mentioned in lines[0]
    assert "hunter2" not in lines[0]
    assert "Traceback" not in result.stderr


def test_the_server_logs_json_lines_without_keys_or_ping_bodies(
    database_url: str, tmp_path: Path
) -> None:
    key = create_key(database_url)
    log_path = tmp_path / "server.log"
    with running_server(database_url, log_path, JOBPULSE_LOG_FORMAT="json") as server:
        headers = {"Authorization": f"Bearer {key}", "X-Request-Id": "deploy-check-1"}
        with httpx.Client(base_url=server.url, headers=headers, timeout=10) as http:
            uuid = http.post("/api/v1/checks", json={"name": "n"}).json()["uuid"]
            http.post(f"/ping/{uuid}", content=b"secret-body-text")
            http.get("/api/v1/checks", headers={"Authorization": "Bearer jp_wrongwrongwrong"})
    text = log_path.read_text()
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]
    assert any(line.get("request_id") == "deploy-check-1" for line in lines)
    assert any(line.get("logger", "").startswith("uvicorn") for line in lines)
    assert key not in text and "secret-body-text" not in text and uuid not in text
