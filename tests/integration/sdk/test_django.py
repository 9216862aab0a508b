"""Django: the management-command decorator (real server) and the health check (receiver)."""

from __future__ import annotations

import asyncio
import uuid

import django
import pytest
from django.conf import settings

if not settings.configured:
    settings.configure(INSTALLED_APPS=[], JOBPULSE={"URL": "http://127.0.0.1:9"})
    django.setup()

from django.core.management import BaseCommand, call_command

from jobpulse.sdk.client import Client
from jobpulse.sdk.integrations.django import monitored_command
from jobpulse.sdk.integrations.django_health import JobpulseTasks, verdict
from tests.integration.sdk.conftest import create_check, get_json
from tests.integration.sdk.receiver import EventReceiver
from tests.server import ServerProcess


def _kinds(server: ServerProcess, check: dict[str, object]) -> list[str]:
    found = get_json(server, f"/api/v1/checks/{check['uuid']}/pings")
    items = found["pings"] if isinstance(found, dict) else found
    assert isinstance(items, list)
    return [str(p["kind"]) for p in sorted(items, key=lambda p: int(p["id"]))]  # arrival order


def test_a_monitored_command_pings_start_and_success(jobpulse_server: ServerProcess) -> None:
    check = create_check(jobpulse_server, f"cmd-{uuid.uuid4().hex[:8]}")
    client = Client(jobpulse_server.url, ping_key=str(check["ping_key"]))

    @monitored_command(str(check["slug"]), client=client)
    class Command(BaseCommand):
        def handle(self, *args: object, **options: object) -> None:
            self.stdout.write("digest sent")

    call_command(Command())
    assert _kinds(jobpulse_server, check) == ["start", "success"]


def test_a_failing_command_pings_fail_and_still_raises(jobpulse_server: ServerProcess) -> None:
    check = create_check(jobpulse_server, f"cmd-{uuid.uuid4().hex[:8]}")
    client = Client(jobpulse_server.url)

    @monitored_command(str(check["uuid"]), client=client)
    class Command(BaseCommand):
        def handle(self, *args: object, **options: object) -> None:
            raise RuntimeError("smtp down")

    with pytest.raises(RuntimeError, match="smtp down"):
        call_command(Command())
    assert _kinds(jobpulse_server, check) == ["start", "fail"]


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ((200, {"status": "ok"}), None),
        ((200, {"status": "degraded", "reason": "queue backlog"}), "Warning: queue backlog"),
        ((503, {"status": "down", "reason": "no heartbeat"}), "Unavailable: jobpulse answered 503"),
    ],
)
def test_the_health_check_reports_what_jobpulse_says(
    receiver: EventReceiver, answer: tuple[int, object], expected: str | None
) -> None:
    receiver.get_answers["/api/v1/tasks/health"] = answer
    result = asyncio.run(JobpulseTasks(url=receiver.url).get_result())
    if expected is None:
        assert result.error is None
    else:
        assert result.error is not None and str(result.error).startswith(expected)


def test_the_health_check_is_unavailable_when_jobpulse_is_unreachable() -> None:
    result = asyncio.run(JobpulseTasks(url="http://127.0.0.1:9").get_result())
    assert "unreachable" in str(result.error)


def test_a_healthy_answer_without_a_status_passes() -> None:
    assert verdict(200, {})[0] == "ok"
