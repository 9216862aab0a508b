"""Real `jobpulse serve` processes: exactly-once notices across kill -9, and leadership of
the alert loop on PostgreSQL (one leader; another node takes over when it dies)."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.notify_receivers import HttpReceiver, Reply
from tests.integration.queue_fixtures import wait_until
from tests.server import ServerProcess, create_key

FAST = {
    "JOBPULSE_ALERTS_INTERVAL_SECONDS": "0.2",
    "JOBPULSE_ALERTS_NOTIFIER_INTERVAL_SECONDS": "0.2",
    "JOBPULSE_ALERTS_LEADER_RETRY_SECONDS": "1",
    "JOBPULSE_ALERTS_LEASE_SECONDS": "3",
}


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    with HttpReceiver() as server:
        yield server


def api(server: ServerProcess, key: str) -> httpx.Client:
    return httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {key}"}, timeout=10)


def setup_channel(client: httpx.Client, receiver: HttpReceiver) -> None:
    config = {"url": f"{receiver.url}/hook"}
    response = client.post(
        "/api/v1/channels", json={"name": "h", "kind": "webhook", "config": config}
    )
    assert response.status_code == 201, response.text


def fail_new_check(client: httpx.Client, name: str) -> None:
    uuid = client.post("/api/v1/checks", json={"name": name}).json()["uuid"]
    assert client.get(f"/ping/{uuid}/fail").status_code == 200


def notice_statuses(client: httpx.Client) -> list[str]:
    found = []
    for incident in client.get("/api/v1/incidents").json()["incidents"]:
        detail = client.get(f"/api/v1/incidents/{incident['id']}").json()
        found += [notice["status"] for notice in detail["notices"]]
    return found


def notice_ids(receiver: HttpReceiver) -> list[str]:
    return [request.headers["x-jobpulse-notice-id"] for request in receiver.requests]


def test_a_notice_written_before_a_kill_9_is_delivered_once_after_restart(
    database_url: str, tmp_path: Path, receiver: HttpReceiver
) -> None:
    key = create_key(database_url)
    server = ServerProcess(
        database_url, tmp_path / "a.log", **FAST, JOBPULSE_ALERTS_NOTIFIER_ENABLED="false"
    )
    server.start()
    with api(server, key) as client:
        setup_channel(client, receiver)
        fail_new_check(client, "backup")
        wait_until(lambda: notice_statuses(client) == ["pending"], 10, "the outbox row")
    server.kill(signal.SIGKILL)
    assert receiver.requests == []

    restarted = ServerProcess(database_url, tmp_path / "b.log", **FAST)
    restarted.start()
    try:
        with api(restarted, key) as client:
            wait_until(lambda: notice_statuses(client) == ["delivered"], 10, "delivery")
            time.sleep(1)  # several more loop passes: still one incident, one notice
            assert notice_statuses(client) == ["delivered"]
        assert len(receiver.requests) == 1
    finally:
        restarted.kill(signal.SIGTERM)


def test_a_kill_9_mid_send_resends_the_same_notice_id_once(
    database_url: str, tmp_path: Path, receiver: HttpReceiver
) -> None:
    key = create_key(database_url)
    receiver.replies.append(Reply(hold=True))
    server = ServerProcess(database_url, tmp_path / "a.log", **FAST)
    server.start()
    with api(server, key) as client:
        setup_channel(client, receiver)
        fail_new_check(client, "backup")
        wait_until(lambda: receiver.requests, 10, "the first send")
    server.kill(signal.SIGKILL)

    restarted = ServerProcess(database_url, tmp_path / "b.log", **FAST)
    restarted.start()
    try:
        with api(restarted, key) as client:
            wait_until(lambda: notice_statuses(client) == ["delivered"], 15, "redelivery")
        ids = notice_ids(receiver)
        assert len(ids) == 2 and len(set(ids)) == 1  # the receiver dedupes on the id
    finally:
        restarted.kill(signal.SIGTERM)


def is_leader(server: ServerProcess, key: str) -> bool:
    with api(server, key) as client:
        return bool(client.get("/api/v1/alerting").json()["leader"])


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_nodes_elect_one_leader_send_each_notice_once_and_fail_over(
    database_url: str, tmp_path: Path, receiver: HttpReceiver
) -> None:
    key = create_key(database_url)
    first = ServerProcess(database_url, tmp_path / "first.log", **FAST)
    second = ServerProcess(database_url, tmp_path / "second.log", **FAST)
    first.start()
    try:
        wait_until(lambda: is_leader(first, key), 10, "the first node leads")
        second.start()
        time.sleep(1.5)  # more than a leader retry
        assert not is_leader(second, key)

        with api(first, key) as client:
            setup_channel(client, receiver)
            for index in range(10):
                fail_new_check(client, f"job-{index}")
        wait_until(lambda: len(receiver.requests) >= 10, 15, "ten notices")
        time.sleep(1)
        assert len(receiver.requests) == 10 and len(set(notice_ids(receiver))) == 10

        first.kill(signal.SIGKILL)
        killed_at = time.monotonic()
        wait_until(lambda: is_leader(second, key), 10, "the second node takes over")
        assert time.monotonic() - killed_at < 10
        with api(second, key) as client:
            fail_new_check(client, "after-failover")
        wait_until(lambda: len(receiver.requests) == 11, 10, "the notice after failover")
    finally:
        first.kill(signal.SIGTERM)
        second.kill(signal.SIGTERM)
