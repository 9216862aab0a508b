"""Pings over HTTP: every URL shape, stored fields, durations, state changes, bad input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from jobpulse.runtime import Runtime
from jobpulse.store.pings import evaluate_handler
from jobpulse.store.tables import projects

MISSING = "0d4b6a1e-2f60-4c3a-9a8b-000000000000"


def create(client: TestClient, **fields: Any) -> dict[str, Any]:
    response = client.post("/api/v1/checks", json={"name": "job", **fields})
    assert response.status_code == 201, response.text
    return response.json()


def check(client: TestClient, uuid: str) -> dict[str, Any]:
    return client.get(f"/api/v1/checks/{uuid}").json()


def pings_of(client: TestClient, uuid: str) -> list[dict[str, Any]]:
    return client.get(f"/api/v1/checks/{uuid}/pings").json()["pings"]


def ping_key(runtime: Runtime) -> str:
    with runtime.engine.connect() as conn:
        return str(conn.execute(select(projects.c.ping_key)).scalar_one())


@pytest.mark.parametrize("method", ["GET", "POST", "HEAD"])
def test_a_success_ping_answers_ok_and_makes_the_check_up(client: TestClient, method: str) -> None:
    uuid = create(client)["uuid"]
    response = client.request(method, f"/ping/{uuid}")
    assert response.status_code == 200
    if method != "HEAD":
        assert response.text == "OK"
    assert check(client, uuid)["status"] == "up"
    assert pings_of(client, uuid)[0]["method"] == method


def test_each_action_url_moves_the_check(client: TestClient) -> None:
    uuid = create(client)["uuid"]
    assert client.get(f"/ping/{uuid}/start").status_code == 200
    assert check(client, uuid)["status"] == "running"
    assert client.get(f"/ping/{uuid}/fail").status_code == 200
    body = check(client, uuid)
    assert (body["status"], body["down_reason"]) == ("down", "failed")
    assert client.get(f"/ping/{uuid}/log").status_code == 200
    assert check(client, uuid)["status"] == "down"
    assert client.get(f"/ping/{uuid}/0").status_code == 200
    assert check(client, uuid)["status"] == "up"
    assert client.get(f"/ping/{uuid}/3").status_code == 200
    body = check(client, uuid)
    assert (body["status"], body["down_reason"]) == ("down", "failed")
    kinds = [(p["kind"], p["exit_status"]) for p in reversed(pings_of(client, uuid))]
    assert kinds == [("start", None), ("fail", None), ("log", None), ("success", 0), ("fail", 3)]
    flips = client.get(f"/api/v1/checks/{uuid}/flips").json()["flips"]
    assert [(f["from"], f["to"], f["reason"]) for f in reversed(flips)] == [
        ("new", "running", None),
        ("running", "down", "failed"),
        ("down", "up", None),
        ("up", "down", "failed"),
    ]


def test_a_ping_stores_its_request_details(client: TestClient) -> None:
    uuid = create(client)["uuid"]
    client.post(f"/ping/{uuid}", content=b"backup done: 42 files", headers={"User-Agent": "curl/8"})
    stored = pings_of(client, uuid)[0]
    assert stored["body"] == "backup done: 42 files" and stored["body_truncated"] is False
    assert stored["user_agent"] == "curl/8"
    assert stored["remote_addr"] == "testclient"
    assert stored["kind"] == "success"
    assert datetime.fromisoformat(stored["at"]) <= datetime.now(UTC)


def test_a_body_over_100_kb_is_cut_and_marked(client: TestClient) -> None:
    uuid = create(client)["uuid"]
    client.post(f"/ping/{uuid}/fail", content=b"x" * 150_000)
    stored = pings_of(client, uuid)[0]
    assert len(stored["body"]) == 100_000 and stored["body_truncated"] is True


def test_start_and_finish_give_a_duration_by_rid_or_by_the_last_start(client: TestClient) -> None:
    uuid = create(client)["uuid"]
    client.get(f"/ping/{uuid}/start", params={"rid": "run-a"})
    client.get(f"/ping/{uuid}/start", params={"rid": "run-b"})
    client.get(f"/ping/{uuid}", params={"rid": "run-a"})
    finished_a = pings_of(client, uuid)[0]
    assert finished_a["rid"] == "run-a" and finished_a["duration_ms"] > 0
    assert check(client, uuid)["status"] == "running"  # run-b is still open
    client.get(f"/ping/{uuid}/0", params={"rid": "run-b"})
    assert check(client, uuid)["status"] == "up"
    client.get(f"/ping/{uuid}/start")
    client.get(f"/ping/{uuid}")
    last = pings_of(client, uuid)[0]
    assert last["duration_ms"] is not None and last["duration_ms"] >= 0
    assert check(client, uuid)["last_duration_ms"] == last["duration_ms"]


def test_pings_by_slug_use_the_projects_ping_key(client: TestClient, runtime: Runtime) -> None:
    uuid = create(client, slug="db-backup")["uuid"]
    key = ping_key(runtime)
    assert client.get(f"/ping/{key}/db-backup").status_code == 200
    assert client.get(f"/ping/{key}/db-backup/start").status_code == 200
    assert client.get(f"/ping/{key}/db-backup/1").status_code == 200
    assert check(client, uuid)["n_pings"] == 3
    assert client.get(f"/ping/{key}/unknown-slug").status_code == 404
    assert client.get("/ping/wrong-key/db-backup").status_code == 404


def test_create_1_creates_a_missing_check_by_slug(client: TestClient, runtime: Runtime) -> None:
    key = ping_key(runtime)
    assert client.get(f"/ping/{key}/new-job", params={"create": "1"}).status_code == 200
    listed = client.get("/api/v1/checks").json()["checks"]
    assert [(c["slug"], c["status"], c["n_pings"]) for c in listed] == [("new-job", "up", 1)]
    assert client.get(f"/ping/{key}/new-job", params={"create": "1"}).status_code == 200
    assert client.get("/api/v1/checks").json()["count"] == 1
    assert client.get("/ping/not-a-key/x", params={"create": "1"}).status_code == 404


@pytest.mark.parametrize(
    ("path", "status"),
    [
        (f"/ping/{MISSING}", 404),
        (f"/ping/{MISSING}/start", 404),
        ("/ping/not-a-uuid", 404),
        (f"/ping/{MISSING}/256", 400),
        (f"/ping/{MISSING}/-1", 400),
        (f"/ping/{MISSING}/99999999999999999999", 400),
        (f"/ping/{MISSING}/explode", 404),
        (f"/ping/{MISSING}/start/extra", 404),
    ],
)
def test_bad_ping_urls_get_a_4xx(client: TestClient, path: str, status: int) -> None:
    response = client.get(path)
    assert response.status_code == status
    if status == 404:
        assert response.text == "not found"


def test_an_over_long_rid_is_rejected(client: TestClient) -> None:
    uuid = create(client)["uuid"]
    assert client.get(f"/ping/{uuid}", params={"rid": "r" * 65}).status_code == 400
    assert check(client, uuid)["n_pings"] == 0


def test_the_evaluator_flips_late_then_down_at_each_deadline(
    client: TestClient, runtime: Runtime
) -> None:
    uuid = create(client, period=2, grace=1)["uuid"]
    client.get(f"/ping/{uuid}")
    pinged = datetime.fromisoformat(check(client, uuid)["last_ping"])

    def evaluate_at(offset: float) -> str:
        runtime.writer.run_sync(evaluate_handler, pinged + timedelta(seconds=offset))
        return str(check(client, uuid)["status"])

    assert evaluate_at(1.99) == "up"
    assert evaluate_at(2.0) == "late"
    assert evaluate_at(2.99) == "late"
    assert evaluate_at(3.0) == "down"
    body = check(client, uuid)
    assert body["down_reason"] == "missed"
    flips = client.get(f"/api/v1/checks/{uuid}/flips").json()["flips"]
    assert [datetime.fromisoformat(f["at"]) - pinged for f in flips[:2]] == [
        timedelta(seconds=3),
        timedelta(seconds=2),
    ]


def test_the_evaluator_flags_a_stuck_run(client: TestClient, runtime: Runtime) -> None:
    uuid = create(client, period=3600, grace=60, max_runtime=30)["uuid"]
    client.get(f"/ping/{uuid}/start")
    started = datetime.fromisoformat(check(client, uuid)["started_at"])
    runtime.writer.run_sync(evaluate_handler, started + timedelta(seconds=30))
    body = check(client, uuid)
    assert (body["status"], body["down_reason"]) == ("down", "stuck")
