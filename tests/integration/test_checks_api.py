"""The checks API, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from jobpulse.runtime import Runtime


def create(client: TestClient, **fields: Any) -> dict[str, Any]:
    response = client.post("/api/v1/checks", json={"name": "nightly", **fields})
    assert response.status_code == 201, response.text
    return response.json()


def test_it_creates_reads_lists_and_deletes_a_check(client: TestClient) -> None:
    check = create(client, slug="nightly-report", tags=["prod", "db"], period=60, grace=30)
    assert check["status"] == "new"
    assert check["ping_url"] == f"http://testserver/ping/{check['uuid']}"
    assert check["slug_ping_url"].endswith("/nightly-report")

    fetched = client.get(f"/api/v1/checks/{check['uuid']}").json()
    assert fetched["name"] == "nightly" and fetched["tags"] == ["prod", "db"]
    assert len(fetched["upcoming"]) == 5

    listed = client.get("/api/v1/checks", params={"tag": "prod"}).json()
    assert listed["count"] == 1 and listed["checks"][0]["uuid"] == check["uuid"]
    assert client.get("/api/v1/checks", params={"tag": "other"}).json()["count"] == 0

    assert client.delete(f"/api/v1/checks/{check['uuid']}").status_code == 204
    assert client.get(f"/api/v1/checks/{check['uuid']}").status_code == 404


def test_it_updates_only_the_fields_sent(client: TestClient) -> None:
    check = create(client, period=60, grace=30, tags=["a"])
    response = client.patch(f"/api/v1/checks/{check['uuid']}", json={"grace": 10})
    assert response.status_code == 200
    assert response.json()["grace"] == 10 and response.json()["period"] == 60
    assert response.json()["tags"] == ["a"]


def test_it_pauses_and_resumes(client: TestClient) -> None:
    check = create(client)
    paused = client.post(f"/api/v1/checks/{check['uuid']}/pause").json()
    assert paused["status"] == "paused"
    resumed = client.post(f"/api/v1/checks/{check['uuid']}/resume").json()
    assert resumed["status"] == "new"
    flips = client.get(f"/api/v1/checks/{check['uuid']}/flips").json()["flips"]
    assert [(f["from"], f["to"]) for f in flips] == [("paused", "new"), ("new", "paused")]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"kind": "cron", "schedule": "61 * * * *"}, "schedule"),
        ({"kind": "cron", "schedule": "0 3 * * *", "tz": "Mars/Olympus"}, "tz"),
        ({"kind": "cron"}, "schedule"),
        ({"period": -5}, "period"),
        ({"grace": -1}, "grace"),
        ({"max_runtime": 0}, "max_runtime"),
        ({"period": "soon"}, "period"),
        ({"name": ""}, "name"),
        ({"tags": ["has space"]}, "tags.0"),
        ({"unknown": 1}, "unknown"),
    ],
)
def test_it_rejects_a_bad_check_naming_the_field(
    client: TestClient, fields: dict[str, Any], field: str
) -> None:
    response = client.post("/api/v1/checks", json={"name": "x", **fields})
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] == "validation failed"
    assert field in [item["field"] for item in body["detail"]]


def test_it_rejects_a_bad_update_naming_the_field(client: TestClient) -> None:
    check = create(client)
    response = client.patch(f"/api/v1/checks/{check['uuid']}", json={"kind": "cron"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "schedule"
    response = client.patch(f"/api/v1/checks/{check['uuid']}", json={"name": None})
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "name"


def test_a_taken_slug_is_a_conflict(client: TestClient) -> None:
    create(client, slug="backup")
    response = client.post("/api/v1/checks", json={"name": "other", "slug": "backup"})
    assert response.status_code == 409
    assert response.json()["detail"][0]["field"] == "slug"


def test_keys_are_required_and_read_only_keys_cannot_write(
    client: TestClient, read_only_key: str
) -> None:
    assert client.get("/api/v1/checks", headers={"Authorization": ""}).status_code == 401
    wrong = client.get("/api/v1/checks", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and wrong.json()["error"] == "unauthorized"
    as_reader = {"Authorization": "", "X-Api-Key": read_only_key}
    assert client.get("/api/v1/checks", headers=as_reader).status_code == 200
    denied = client.post("/api/v1/checks", json={"name": "x"}, headers=as_reader)
    assert denied.status_code == 403


def test_unknown_check_is_not_found(client: TestClient, runtime: Runtime) -> None:
    missing = "6f1c1a34-1111-4111-8111-111111111111"
    for method, path in [
        ("GET", f"/api/v1/checks/{missing}"),
        ("PATCH", f"/api/v1/checks/{missing}"),
        ("DELETE", f"/api/v1/checks/{missing}"),
        ("POST", f"/api/v1/checks/{missing}/pause"),
        ("GET", f"/api/v1/checks/{missing}/pings"),
    ]:
        response = client.request(method, path, json={} if method == "PATCH" else None)
        assert response.status_code == 404, (method, path)
        assert response.json()["error"] == "not found"
