"""A check going down and coming back, end to end: incidents, outbox, webhook deliveries."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from email import message_from_bytes
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient

from jobpulse.runtime import Runtime
from tests.integration.alerting import (
    alert_tick,
    create_check,
    deliver,
    deliver_all,
    evaluate,
    incidents,
    kinds,
    notices,
    now,
    webhook_channel,
)
from tests.integration.notify_receivers import HttpReceiver, free_port


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    with HttpReceiver() as server:
        yield server


def test_a_failed_check_opens_one_incident_sends_one_notice_then_one_recovery(
    client: TestClient, runtime: Runtime, receiver: HttpReceiver
) -> None:
    webhook_channel(client, receiver)
    uuid = create_check(client)
    client.get(f"/ping/{uuid}/fail")

    assert len(alert_tick(runtime).opened) == 1
    assert deliver(runtime) == ["delivered"]
    (opened,) = incidents(client)
    assert (opened["status"], opened["subject"], opened["severity"]) == (
        "open",
        "backup",
        "critical",
    )
    assert kinds(receiver) == ["firing"]
    first = notices(receiver)[0]
    assert "backup" in first["title"] and first["url"].endswith(f"/incidents/{opened['id']}")

    for _ in range(3):  # still down: nothing new
        assert alert_tick(runtime).opened == []
        assert deliver(runtime) == []
    assert kinds(receiver) == ["firing"]

    client.get(f"/ping/{uuid}")
    assert alert_tick(runtime).resolved == [opened["id"]]
    assert deliver(runtime) == ["delivered"]
    assert kinds(receiver) == ["firing", "resolved"]
    assert incidents(client)[0]["status"] == "resolved"
    ids = [notice["id"] for notice in notices(receiver)]
    assert len(set(ids)) == 2


def test_a_check_missing_its_deadline_fires_once_at_the_deadline(
    client: TestClient, runtime: Runtime, receiver: HttpReceiver
) -> None:
    webhook_channel(client, receiver)
    uuid = create_check(client, period=60, grace=30)
    client.get(f"/ping/{uuid}")
    after_deadline = now() + timedelta(seconds=95)

    evaluate(runtime, after_deadline)
    alert_tick(runtime, after_deadline)
    alert_tick(runtime, after_deadline + timedelta(seconds=1))
    deliver(runtime, after_deadline)

    (notice,) = notices(receiver)
    assert notice["kind"] == "firing" and "missed" in notice["title"]
    (incident,) = incidents(client)
    started = incident["started_at"]
    assert started is not None and started < incident["opened_at"]


def test_a_flapping_check_inside_its_damping_window_sends_nothing(
    client: TestClient, runtime: Runtime, receiver: HttpReceiver
) -> None:
    webhook_channel(client, receiver)
    builtin = client.get("/api/v1/rules").json()["rules"]
    if not builtin:
        alert_tick(runtime)
        builtin = client.get("/api/v1/rules").json()["rules"]
    patched = client.patch(f"/api/v1/rules/{builtin[0]['id']}", json={"hold_fire": 300})
    assert patched.status_code == 200, patched.text
    uuid = create_check(client)

    start = now()
    for minute in range(5):
        client.get(f"/ping/{uuid}/fail")
        alert_tick(runtime, start + timedelta(minutes=minute))
        client.get(f"/ping/{uuid}")
        alert_tick(runtime, start + timedelta(minutes=minute, seconds=30))
    deliver(runtime)
    assert incidents(client) == [] and receiver.requests == []

    client.get(f"/ping/{uuid}/fail")  # now it stays down past the hold time: one incident
    opened = [
        *alert_tick(runtime, start + timedelta(minutes=10)).opened,
        *alert_tick(runtime, start + timedelta(minutes=16)).opened,
    ]
    assert len(opened) == 1


def test_a_silence_suppresses_the_notice_but_keeps_the_incident_visible(
    client: TestClient, runtime: Runtime, receiver: HttpReceiver
) -> None:
    webhook_channel(client, receiver)
    ends = (now() + timedelta(hours=1)).isoformat()
    silence = client.post(
        "/api/v1/silences",
        json={"comment": "maintenance", "matchers": {"check": "back*"}, "ends_at": ends},
    )
    assert silence.status_code == 201, silence.text
    uuid = create_check(client)
    other = create_check(client, name="reports")
    client.get(f"/ping/{uuid}/fail")
    client.get(f"/ping/{other}/fail")

    alert_tick(runtime)
    deliver(runtime)

    assert [n["subject"] for n in notices(receiver)] == ["reports"]
    by_subject = {i["subject"]: i for i in incidents(client)}
    muted = client.get(f"/api/v1/incidents/{by_subject['backup']['id']}").json()
    assert muted["status"] == "open"
    assert [(n["status"], n["silence_id"]) for n in muted["notices"]] == [
        ("suppressed", silence.json()["id"])
    ]


def test_acknowledged_critical_incidents_stop_repeating(
    client: TestClient, runtime: Runtime, receiver: HttpReceiver
) -> None:
    webhook_channel(client, receiver)
    alert_tick(runtime)
    (rule,) = client.get("/api/v1/rules").json()["rules"]
    assert client.patch(f"/api/v1/rules/{rule['id']}", json={"repeat": 600}).status_code == 200
    uuid = create_check(client)
    client.get(f"/ping/{uuid}/fail")
    start = now()
    alert_tick(runtime, start)
    alert_tick(runtime, start + timedelta(minutes=5))
    alert_tick(runtime, start + timedelta(minutes=11))
    deliver_all(runtime, start + timedelta(minutes=11))
    assert kinds(receiver) == ["firing", "repeat"]

    (incident,) = incidents(client)
    acked = client.post(f"/api/v1/incidents/{incident['id']}/ack")
    assert acked.json()["status"] == "acked"
    alert_tick(runtime, start + timedelta(minutes=30))
    deliver_all(runtime, start + timedelta(minutes=30))
    assert kinds(receiver) == ["firing", "repeat"]


def test_resolving_by_hand_sends_one_resolved_notice_and_does_not_reopen(
    client: TestClient, runtime: Runtime, receiver: HttpReceiver
) -> None:
    webhook_channel(client, receiver)
    uuid = create_check(client)
    client.get(f"/ping/{uuid}/fail")
    alert_tick(runtime)
    (incident,) = incidents(client)
    resolved = client.post(f"/api/v1/incidents/{incident['id']}/resolve")
    assert resolved.json()["resolved_by"] == "api"
    alert_tick(runtime)
    client.get(f"/ping/{uuid}")
    alert_tick(runtime)
    deliver_all(runtime)
    assert kinds(receiver) == ["firing", "resolved"]
    assert len(incidents(client)) == 1

    client.get(f"/ping/{uuid}/fail")  # a new failure is a new incident
    assert len(alert_tick(runtime).opened) == 1


def test_a_failing_receiver_is_retried_with_backoff_then_marked_failed(
    client: TestClient, runtime: Runtime, receiver: HttpReceiver
) -> None:
    receiver.default.status = 503
    webhook_channel(client, receiver)
    uuid = create_check(client)
    client.get(f"/ping/{uuid}/fail")
    alert_tick(runtime)
    policy = runtime.alerting.notifier._policy
    at = now()
    statuses = []
    for _ in range(policy.max_attempts):
        statuses += deliver(runtime, at)
        at += policy.cap
    assert statuses == ["pending"] * (policy.max_attempts - 1) + ["failed"]
    assert deliver(runtime, at + policy.cap) == []
    (incident,) = incidents(client)
    (notice,) = client.get(f"/api/v1/incidents/{incident['id']}").json()["notices"]
    assert notice["status"] == "failed" and "503" in notice["last_error"]
    assert notice["attempts"] == policy.max_attempts
    assert len(receiver.requests) == policy.max_attempts


def test_a_retry_waits_for_its_backoff(
    client: TestClient, runtime: Runtime, receiver: HttpReceiver
) -> None:
    receiver.reply(503)
    webhook_channel(client, receiver)
    uuid = create_check(client)
    client.get(f"/ping/{uuid}/fail")
    at = now()
    alert_tick(runtime, at)
    assert deliver(runtime, at) == ["pending"]
    assert deliver(runtime, at + timedelta(seconds=1)) == []
    assert deliver(runtime, at + timedelta(minutes=1)) == ["delivered"]
    assert kinds(receiver) == ["firing", "firing"]
    assert len({n["id"] for n in notices(receiver)}) == 1


class _Mailbox:
    def __init__(self) -> None:
        self.subjects: list[str] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.original_content or b"")
        self.subjects.append(str(message["Subject"]))
        return "250 OK"


def test_a_missed_deadline_sends_exactly_one_email_and_one_webhook_then_one_recovery(
    client: TestClient, runtime: Runtime, receiver: HttpReceiver
) -> None:
    mailbox = _Mailbox()
    port = free_port()
    smtp = Controller(mailbox, hostname="127.0.0.1", port=port)
    smtp.start()
    try:
        email = {
            "host": "127.0.0.1",
            "port": port,
            "security": "none",
            "from": "jobpulse@example.com",
            "to": ["ops@example.com"],
        }
        created = client.post(
            "/api/v1/channels", json={"name": "mail", "kind": "email", "config": email}
        )
        assert created.status_code == 201, created.text
        webhook_channel(client, receiver)
        uuid = create_check(client, period=60, grace=30)
        client.get(f"/ping/{uuid}")
        late = now() + timedelta(seconds=95)
        for second in range(3):
            evaluate(runtime, late + timedelta(seconds=second))
            alert_tick(runtime, late + timedelta(seconds=second))
            deliver(runtime, late + timedelta(seconds=second))
        client.get(f"/ping/{uuid}")
        alert_tick(runtime, late + timedelta(seconds=5))
        deliver(runtime, late + timedelta(seconds=5))
    finally:
        smtp.stop()
    assert kinds(receiver) == ["firing", "resolved"]
    assert len(mailbox.subjects) == 2
    assert "backup" in mailbox.subjects[0] and "RESOLVED" in mailbox.subjects[1]


def test_a_resolved_notice_never_overtakes_its_firing_notice(
    client: TestClient, runtime: Runtime, receiver: HttpReceiver
) -> None:
    receiver.reply(503)
    webhook_channel(client, receiver)
    uuid = create_check(client)
    client.get(f"/ping/{uuid}/fail")
    at = now()
    alert_tick(runtime, at)
    assert deliver(runtime, at) == ["pending"]  # the firing notice waits for its retry
    client.get(f"/ping/{uuid}")
    alert_tick(runtime, at)
    assert deliver(runtime, at) == []  # so does the resolved one, behind it
    assert deliver_all(runtime, at + timedelta(minutes=1)) == ["delivered", "delivered"]
    assert kinds(receiver) == ["firing", "firing", "resolved"]
