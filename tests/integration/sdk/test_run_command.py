"""`jobpulse run --check … -- CMD` as a user runs it from cron: a real process, a real server."""

from __future__ import annotations

import subprocess
import sys
import uuid

from jobpulse.commands.run import OutputTail
from tests.integration.sdk.conftest import create_check, get_json
from tests.server import ServerProcess


def _run(
    server_url: str, check: str, *command: str, **env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "jobpulse.cli",
            "run",
            "--check",
            check,
            "--server",
            server_url,
            "--timeout",
            "1",
            "--",
            *command,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", **env},
    )


def _check(server: ServerProcess, uuid_: object) -> dict[str, object]:
    found = get_json(server, f"/api/v1/checks/{uuid_}")
    assert isinstance(found, dict)
    return found


def _last_ping(server: ServerProcess, uuid_: object) -> dict[str, object]:
    found = get_json(server, f"/api/v1/checks/{uuid_}/pings")
    items = found["pings"] if isinstance(found, dict) else found
    assert isinstance(items, list)
    return max(items, key=lambda ping: str(ping.get("at")))


def test_false_exits_1_and_the_check_goes_down_failed(jobpulse_server: ServerProcess) -> None:
    check = create_check(jobpulse_server, f"cron-{uuid.uuid4().hex[:8]}")
    result = _run(jobpulse_server.url, str(check["uuid"]), "false")
    assert result.returncode == 1
    state = _check(jobpulse_server, check["uuid"])
    assert (state["status"], state["down_reason"]) == ("down", "failed")


def test_output_streams_through_and_its_tail_goes_with_the_ping(
    jobpulse_server: ServerProcess,
) -> None:
    check = create_check(jobpulse_server, f"cron-{uuid.uuid4().hex[:8]}")
    script = "import sys; print('hello out'); print('hello err', file=sys.stderr); sys.exit(3)"
    result = _run(
        jobpulse_server.url,
        str(check["slug"]),
        sys.executable,
        "-c",
        script,
        JOBPULSE_PING_KEY=str(check["ping_key"]),
    )
    assert result.returncode == 3
    assert result.stdout == "hello out\n"
    assert result.stderr == "hello err\n"
    ping = _last_ping(jobpulse_server, check["uuid"])
    assert ping["exit_status"] == 3
    assert "hello out" in str(ping.get("body"))


def test_success_pings_exit_status_zero(jobpulse_server: ServerProcess) -> None:
    check = create_check(jobpulse_server, f"cron-{uuid.uuid4().hex[:8]}")
    result = _run(jobpulse_server.url, str(check["uuid"]), "true")
    assert result.returncode == 0
    assert _check(jobpulse_server, check["uuid"])["status"] == "up"


def test_an_unreachable_server_does_not_change_the_commands_status() -> None:
    result = _run("http://127.0.0.1:9", str(uuid.uuid4()), "sh", "-c", "echo ok; exit 4")
    assert result.returncode == 4
    assert result.stdout == "ok\n"


def test_a_missing_command_exits_127() -> None:
    result = _run("http://127.0.0.1:9", str(uuid.uuid4()), "/nonexistent/command")
    assert result.returncode == 127


def test_the_output_tail_keeps_the_last_bytes() -> None:
    tail = OutputTail(limit=10)
    for chunk in (b"0123456789", b"abc", b"defghij"):
        tail.add(chunk)
    assert tail.text() == "abcdefghij"
