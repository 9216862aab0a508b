"""`client.monitor()` and `client.ping()` against a real jobpulse server."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from jobpulse import Client
from tests.integration.sdk.conftest import create_check, get_json
from tests.server import ServerProcess


def _slug() -> str:
    return f"job-{uuid.uuid4().hex[:8]}"


def _pings(server: ServerProcess, check: dict[str, object]) -> list[dict[str, object]]:
    found = get_json(server, f"/api/v1/checks/{check['uuid']}/pings")
    items = found["pings"] if isinstance(found, dict) else found
    return sorted(items, key=lambda ping: str(ping.get("at") or ping.get("created")))


def _kinds(server: ServerProcess, check: dict[str, object]) -> list[str]:
    return [str(ping["kind"]) for ping in _pings(server, check)]


def test_a_decorated_function_pings_start_then_success_with_one_rid(
    jobpulse_server: ServerProcess,
) -> None:
    check = create_check(jobpulse_server, _slug())
    client = Client(jobpulse_server.url, ping_key=str(check["ping_key"]))

    @client.monitor(str(check["slug"]))
    def nightly_report() -> int:
        return 42

    assert nightly_report() == 42
    pings = _pings(jobpulse_server, check)
    assert [ping["kind"] for ping in pings] == ["start", "success"]
    assert pings[0]["rid"] == pings[1]["rid"] is not None
    status = get_json(jobpulse_server, f"/api/v1/checks/{check['uuid']}")
    assert isinstance(status, dict) and status["status"] == "up"


def test_a_failing_block_pings_fail_with_the_exception_and_still_raises(
    jobpulse_server: ServerProcess,
) -> None:
    check = create_check(jobpulse_server, _slug())
    client = Client(jobpulse_server.url)

    with pytest.raises(ValueError, match="bad row 7"), client.monitor(str(check["uuid"])):
        raise ValueError("bad row 7")

    pings = _pings(jobpulse_server, check)
    assert [ping["kind"] for ping in pings] == ["start", "fail"]
    status = get_json(jobpulse_server, f"/api/v1/checks/{check['uuid']}")
    assert isinstance(status, dict) and status["down_reason"] == "failed"


def test_async_functions_are_monitored_too(jobpulse_server: ServerProcess) -> None:
    check = create_check(jobpulse_server, _slug())
    client = Client(jobpulse_server.url)

    @client.monitor(str(check["uuid"]))
    async def refresh() -> str:
        await asyncio.sleep(0)
        return "done"

    assert asyncio.run(refresh()) == "done"
    assert _kinds(jobpulse_server, check) == ["start", "success"]


def test_a_slug_can_create_its_check(jobpulse_server: ServerProcess) -> None:
    known = create_check(jobpulse_server, _slug())
    client = Client(jobpulse_server.url, ping_key=str(known["ping_key"]))
    with client.monitor("created-by-sdk-" + uuid.uuid4().hex[:6], create=True):
        pass


def test_an_unreachable_server_never_breaks_the_job() -> None:
    client = Client("http://127.0.0.1:9", ping_timeout=0.2, ping_retries=1)

    @client.monitor(str(uuid.uuid4()))
    def job() -> str:
        return "ran"

    assert job() == "ran"


def test_a_slug_without_a_ping_key_is_skipped_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = Client("http://127.0.0.1:9", ping_key=None)
    assert client.ping("no-key-slug") is False
    assert "no ping key" in caplog.text
