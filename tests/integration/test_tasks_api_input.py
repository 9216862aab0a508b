"""Bad or awkward input to the task log API: a 4xx naming the field, never a 500, on
SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.integration.test_tasks_api import event


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([{"type": "exploded", "job_id": "a", "task_name": "t", "queue": "q", "ts": 1}], "0.type"),
        ([{"type": "started", "task_name": "t", "queue": "q", "ts": 1}], "0.job_id"),
        ([{"type": "started", "job_id": 5, "task_name": "t", "queue": "q", "ts": 1}], "0.job_id"),
        (
            [{"type": "started", "job_id": "a", "task_name": "t", "queue": "q", "ts": "soon"}],
            "0.ts",
        ),
        ({"type": "started"}, "body"),
        (
            [
                {"type": "started", "job_id": "a", "task_name": "t", "queue": "q", "ts": 1},
                {
                    "type": "started",
                    "job_id": "b",
                    "task_name": "t",
                    "queue": "q",
                    "ts": 1,
                    "expires": "0001-01-01T00:30:00+01:00",
                },
            ],
            "1.expires",
        ),
    ],
)
def test_bad_events_get_a_4xx_naming_the_field(client: TestClient, body: Any, field: str) -> None:
    response = client.post("/api/v1/events", json=body)
    assert response.status_code == 422
    assert field in [d["field"] for d in response.json()["detail"]]


def test_malformed_json_is_a_4xx(client: TestClient) -> None:
    response = client.post(
        "/api/v1/events", content=b"[{", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "sleeping"}, "status"),
        ({"status_in": "success,sleeping"}, "status_in"),
        ({"page_size": 100000}, "page_size"),
        ({"created_after": "yesterday"}, "created_after"),
        ({"ordering": "-password"}, "ordering"),
        ({"cursor": "garbage"}, "cursor"),
        ({"is_failed": "maybe"}, "is_failed"),
        ({"duration_min": "fast"}, "duration_min"),
        ({"search": "nul\x00"}, "search"),
        ({"job_retries_min": 10**30}, "job_retries_min"),
        ({"page": 0}, "page"),
    ],
)
def test_bad_filters_get_a_4xx_naming_the_field(
    client: TestClient, params: dict[str, Any], field: str
) -> None:
    response = client.get("/api/v1/tasks", params=params)
    assert response.status_code == 422
    assert [d["field"] for d in response.json()["detail"]] == [field]


def test_reports_reject_bad_parameters(client: TestClient) -> None:
    assert client.get("/api/v1/tasks/timeline", params={"interval": "week"}).status_code == 422
    assert client.get("/api/v1/tasks/stats", params={"period_hours": 0}).status_code == 422
    assert client.get("/api/v1/tasks/12345").status_code == 404
    assert client.get("/api/v1/tasks/a%00b").status_code == 422
    assert client.get("/api/v1/tasks/99999999999999999999999").status_code == 404


@pytest.mark.parametrize(
    "fields",
    [
        {"args": [2**70], "result": {"big": -(2**80)}},
        {"error": "Boom\x00: nul", "worker_id": "w\x00", "kwargs": {"k\x00": "v\x00"}},
        {"args": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]},
        {"traceback": "x" * 200_000, "args": ["y" * 200_000]},
    ],
)
def test_awkward_values_are_stored_or_refused_never_a_500(
    client: TestClient, fields: dict[str, Any]
) -> None:
    response = client.post("/api/v1/events", json=[event("failed", "odd", 10, **fields)])
    assert response.status_code in (202, 422), response.text
    if response.status_code == 202:
        assert client.get("/api/v1/tasks/odd").status_code == 200


def test_a_lone_surrogate_is_refused_or_stored(client: TestClient) -> None:
    body = b'[{"type": "failed", "job_id": "s", "task_name": "t", "queue": "q", "ts": 1700000000,'
    body += b' "error": "E: \\ud800", "result": "\\udfff"}]'
    response = client.post("/api/v1/events", content=body)
    assert response.status_code in (202, 422), response.text


def test_read_only_keys_cannot_post_events(client: TestClient, read_only_key: str) -> None:
    headers = {"Authorization": f"Bearer {read_only_key}"}
    response = client.post("/api/v1/events", json=[], headers=headers)
    assert response.status_code == 403
    assert client.get("/api/v1/tasks", headers=headers).status_code == 200
