"""The alerting API: rules, channels (secrets masked), routes, silences, probes, bad input."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from jobpulse.runtime import Runtime
from tests.integration.alerting import (
    alert_tick,
    create_check,
    deliver,
    deliver_all,
    notices,
    now,
    webhook_channel,
)
from tests.integration.notify_receivers import HttpReceiver


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    with HttpReceiver() as server:
        yield server


def _field_of(response: object) -> str:
    body = response.json()  # type: ignore[attr-defined]
    return str(body["detail"][0]["field"])


def test_a_rule_is_created_with_defaults_and_listed_after_the_builtin(
    client: TestClient, runtime: Runtime
) -> None:
    alert_tick(runtime)
    created = client.post(
        "/api/v1/rules",
        json={
            "name": "payments failing",
            "kind": "task_failure_rate",
            "severity": "warning",
            "scope": {"kind": "queue", "value": "payments"},
            "params": {"threshold": 0.2},
            "hold_fire": 60,
        },
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["params"] == {"threshold": 0.2, "min_samples": 10.0}
    assert body["scope"] == {"kind": "queue", "value": "payments"}
    names = [rule["name"] for rule in client.get("/api/v1/rules").json()["rules"]]
    assert names == ["check down", "payments failing"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "kind": "nope"}, "kind"),
        ({"name": "x", "kind": "queue_backlog"}, "params.max_depth"),
        ({"name": "x", "kind": "queue_backlog", "params": {"max_depth": -1}}, "params.max_depth"),
        ({"name": "x", "kind": "queue_backlog", "params": {"depth": 1}}, "params.depth"),
        ({"name": "x", "kind": "check_down", "scope": {"kind": "tag"}}, "scope"),
        ({"name": "x", "kind": "check_down", "severity": "panic"}, "severity"),
        ({"name": "x", "kind": "check_down", "hold_fire": -5}, "hold_fire"),
        ({"name": "", "kind": "check_down"}, "name"),
    ],
)
def test_a_bad_rule_is_a_422_naming_the_field(
    client: TestClient, body: dict[str, object], field: str
) -> None:
    response = client.post("/api/v1/rules", json=body)
    assert response.status_code == 422, response.text
    assert _field_of(response) == field


def test_the_builtin_rule_cannot_be_deleted_and_names_are_unique(
    client: TestClient, runtime: Runtime
) -> None:
    alert_tick(runtime)
    (builtin,) = client.get("/api/v1/rules").json()["rules"]
    assert client.delete(f"/api/v1/rules/{builtin['id']}").status_code == 409
    taken = client.post("/api/v1/rules", json={"name": "check down", "kind": "check_down"})
    assert taken.status_code == 409 and _field_of(taken) == "name"
    assert client.get("/api/v1/rules/999999").status_code == 404


def test_deleting_a_rule_resolves_its_open_incidents(
    client: TestClient, runtime: Runtime, receiver: HttpReceiver
) -> None:
    webhook_channel(client, receiver)
    alert_tick(runtime)
    (builtin,) = client.get("/api/v1/rules").json()["rules"]
    client.patch(f"/api/v1/rules/{builtin['id']}", json={"enabled": False})
    rule = client.post(
        "/api/v1/rules", json={"name": "nightly", "kind": "check_down", "severity": "warning"}
    ).json()
    uuid = create_check(client)
    client.get(f"/ping/{uuid}/fail")
    alert_tick(runtime)
    assert client.delete(f"/api/v1/rules/{rule['id']}").status_code == 204
    deliver_all(runtime)
    assert [n["kind"] for n in notices(receiver)] == ["firing", "resolved"]
    (incident,) = client.get("/api/v1/incidents").json()["incidents"]
    assert incident["status"] == "resolved" and incident["rule_id"] is None


def test_channel_secrets_are_masked_and_kept_when_sent_back_masked(
    client: TestClient, receiver: HttpReceiver
) -> None:
    created = client.post(
        "/api/v1/channels",
        json={
            "name": "signed",
            "kind": "webhook",
            "config": {"url": f"{receiver.url}/signed", "secret": "hunter2"},
        },
    )
    assert created.status_code == 201, created.text
    channel = created.json()
    assert channel["config"]["secret"] == "********"
    assert "hunter2" not in client.get("/api/v1/channels").text
    config = {**channel["config"], "method": "PUT"}
    updated = client.patch(f"/api/v1/channels/{channel['id']}", json={"config": config})
    assert updated.status_code == 200, updated.text

    tested = client.post(f"/api/v1/channels/{channel['id']}/test")
    assert tested.status_code == 200, tested.text
    sent = receiver.last
    assert sent.method == "PUT" and sent.json()["kind"] == "test"
    assert sent.headers["x-jobpulse-signature"].startswith("sha256=")


def test_a_bad_channel_config_is_a_422_naming_the_field(client: TestClient) -> None:
    bad_url = client.post(
        "/api/v1/channels", json={"name": "h", "kind": "webhook", "config": {"url": "nope"}}
    )
    assert bad_url.status_code == 422 and _field_of(bad_url) == "config.url"
    bad_kind = client.post("/api/v1/channels", json={"name": "h", "kind": "pigeon"})
    assert bad_kind.status_code == 422 and _field_of(bad_kind) == "kind"


def test_a_test_notice_that_fails_is_a_502_with_the_reason(
    client: TestClient, receiver: HttpReceiver
) -> None:
    receiver.reply(500, b"boom")
    channel_id = webhook_channel(client, receiver)
    response = client.post(f"/api/v1/channels/{channel_id}/test")
    assert response.status_code == 502
    assert "500" in response.json()["detail"]["reason"]


def test_routes_send_by_severity_and_matchers_and_the_default_catches_the_rest(
    client: TestClient, runtime: Runtime, receiver: HttpReceiver
) -> None:
    pager = webhook_channel(client, receiver, "pager")
    chat = webhook_channel(client, receiver, "chat")
    unused = webhook_channel(client, receiver, "unused")
    routed = client.post(
        "/api/v1/routes",
        json={"severities": ["critical"], "matchers": {"tag": "prod"}, "channel_ids": [pager]},
    )
    assert routed.status_code == 201, routed.text
    default = client.post("/api/v1/routes", json={"channel_ids": [chat], "is_default": True})
    assert default.status_code == 201
    prod = create_check(client, name="prod-job", tags=["prod"])
    dev = create_check(client, name="dev-job", tags=["dev"])
    client.get(f"/ping/{prod}/fail")
    client.get(f"/ping/{dev}/fail")
    alert_tick(runtime)
    deliver(runtime)
    by_path = {r.path: r.json()["subject"] for r in receiver.requests}
    assert by_path == {"/pager": "prod-job", "/chat": "dev-job"}
    assert unused


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"channel_ids": []}, "channel_ids"),
        ({"channel_ids": [123456]}, "channel_ids"),
        ({"channel_ids": [1], "matchers": {"colour": "red"}}, "matchers"),
        ({"channel_ids": [1], "severities": ["loud"]}, "severities.0"),
    ],
)
def test_a_bad_route_is_a_422_naming_the_field(
    client: TestClient, receiver: HttpReceiver, body: dict[str, object], field: str
) -> None:
    webhook_channel(client, receiver)
    response = client.post("/api/v1/routes", json=body)
    assert response.status_code == 422, response.text
    assert _field_of(response) == field


def test_a_silence_needs_an_end_after_its_start(client: TestClient) -> None:
    start = now()
    backwards = client.post(
        "/api/v1/silences",
        json={"starts_at": start.isoformat(), "ends_at": (start - timedelta(hours=1)).isoformat()},
    )
    assert backwards.status_code == 422
    past = client.post(
        "/api/v1/silences", json={"ends_at": (start - timedelta(hours=1)).isoformat()}
    )
    assert past.status_code == 422 and _field_of(past) == "ends_at"
    listed = client.post(
        "/api/v1/silences", json={"ends_at": (start + timedelta(hours=1)).isoformat()}
    )
    assert listed.status_code == 201 and listed.json()["active"] is True
    silence_id = listed.json()["id"]
    assert client.delete(f"/api/v1/silences/{silence_id}").status_code == 204
    assert client.get("/api/v1/silences").json()["silences"] == []


def test_incidents_404_and_filter_by_status(client: TestClient, runtime: Runtime) -> None:
    assert client.get("/api/v1/incidents/424242").status_code == 404
    assert client.post("/api/v1/incidents/424242/ack").status_code == 404
    assert client.get("/api/v1/incidents", params={"status": "weird"}).status_code == 422
    uuid = create_check(client)
    client.get(f"/ping/{uuid}/fail")
    alert_tick(runtime)
    assert (
        len(client.get("/api/v1/incidents", params={"status": "unresolved"}).json()["incidents"])
        == 1
    )
    assert client.get("/api/v1/incidents", params={"status": "resolved"}).json()["count"] == 0


def test_read_only_keys_cannot_change_alerting(client: TestClient, read_only_key: str) -> None:
    headers = {"Authorization": f"Bearer {read_only_key}"}
    response = client.post(
        "/api/v1/rules", json={"name": "x", "kind": "check_down"}, headers=headers
    )
    assert response.status_code == 403
    assert client.get("/api/v1/rules", headers=headers).status_code == 200
