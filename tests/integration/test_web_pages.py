"""Dashboard pages over real data, on SQLite and PostgreSQL: what each page shows."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from jobpulse.api.app import create_app
from jobpulse.domain.queues import QueueSample, SourceSample
from jobpulse.runtime import Runtime
from jobpulse.store.queue_sources import list_sources
from jobpulse.store.queues import RecordedSweep, record_sweep
from tests.integration.test_web_access import add_user, login

TRACEBACK = (
    'Traceback (most recent call last):\n  File "/app/tasks.py", line 9, in charge\n'
    "    gateway.charge()\nValueError: card declined\n"
)


@pytest.fixture
def owner(runtime: Runtime) -> Iterator[tuple[TestClient, int]]:
    project_id = add_user(runtime, "owner@example.com", "default", "owner")
    client = TestClient(create_app(runtime, manage_runtime=False), base_url="https://testserver")
    yield login(client, "owner@example.com"), project_id
    client.close()


def run_events(job: str, task: str, queue: str, failed: bool, at: datetime) -> list[dict[str, Any]]:
    common = {"job_id": job, "task_name": task, "queue": queue, "worker_id": "w1"}
    end: dict[str, Any] = {**common, "ts": (at + timedelta(seconds=2)).isoformat()}
    if failed:
        end.update(type="failed", error="ValueError: card declined", traceback=TRACEBACK)
    else:
        end.update(type="succeeded", result={"charged": 12})
    started = {**common, "type": "started", "ts": at.isoformat(), "kwargs": {"amount": 12}}
    return [started, end]


def test_task_pages_show_filtered_runs_tracebacks_errors_and_charts(
    client: TestClient, owner: tuple[TestClient, int]
) -> None:
    browser, project = owner
    now = datetime.now(UTC)
    events = []
    for i in range(6):
        events += run_events(f"job-{i}", "charge", "billing", i % 3 == 0, now - timedelta(hours=i))
    events += run_events("mail-1", "send_mail", "emails", False, now)
    assert client.post("/api/v1/events", json=events).status_code == 202

    listed = browser.get(f"/p/{project}/tasks", params={"status": "failed"}).text
    assert listed.count("data-run=") == 2 and "send_mail" not in listed
    by_queue = browser.get(f"/p/{project}/tasks", params={"queue_name": "emails"}).text
    assert by_queue.count("data-run=") == 1
    run_id = re.search(r'data-run="(\d+)"', listed)
    assert run_id is not None

    detail = browser.get(f"/p/{project}/tasks/{run_id.group(1)}").text
    assert '<span class="tb-error">ValueError: card declined</span>' in detail
    assert "&#34;amount&#34;: 12" in detail or '"amount": 12' in detail
    assert "Related runs" in detail and "job-1" in detail
    # Its one attempt, implied by the run's row (no attempt row is stored for it).
    assert "<strong>Attempt 1</strong>" in detail and "No attempt recorded" not in detail

    errors = browser.get(f"/p/{project}/tasks/errors").text
    assert "card declined" in errors and ">2</span>" in errors

    for params in ({}, {"task_name": "charge"}, {"queue_name": "billing"}):
        charts = browser.get(f"/p/{project}/tasks/stats", params=params)
        assert charts.status_code == 200 and 'class="chart"' in charts.text
    overview = browser.get(f"/p/{project}/").text
    assert "Tasks, last 24 hours" in overview and "Recent task failures" in overview


def test_check_pages_show_durations_history_and_ping_bodies(
    client: TestClient, owner: tuple[TestClient, int]
) -> None:
    browser, project = owner
    check = client.post("/api/v1/checks", json={"name": "backup", "tags": ["db"]}).json()
    for run in range(3):
        client.get(f"/ping/{check['uuid']}/start", params={"rid": f"r{run}"})
        client.post(
            f"/ping/{check['uuid']}/{run % 2}",
            params={"rid": f"r{run}"},
            content=f"run {run} output".encode(),
        )

    listed = browser.get(f"/p/{project}/checks", params={"tag": "db"}).text
    assert 'class="sparkline"' in listed
    detail = browser.get(f"/p/{project}/checks/{check['uuid']}").text
    assert "run 2 output" in detail and 'class="band"' in detail and 'class="chart"' in detail
    assert "curl -fsS" in detail and check["ping_url"] in detail
    overview = browser.get(f"/p/{project}/").text
    assert "backup" in overview and "Needs attention" in overview


def test_worker_and_queue_pages_list_what_was_reported(
    client: TestClient, owner: tuple[TestClient, int]
) -> None:
    browser, project = owner
    beat = {"worker_id": "w-7", "hostname": "box", "queues": ["emails"], "interval": 30}
    assert client.post("/api/v1/workers/heartbeat", json=beat).status_code == 202
    workers = browser.get(f"/p/{project}/workers").text
    assert "w-7" in workers and "box" in workers
    assert "w-7" not in browser.get(f"/p/{project}/workers", params={"status": "gone"}).text
    assert "No queues yet" in browser.get(f"/p/{project}/queues").text
    assert browser.get(f"/p/{project}/queues/nowhere/emails").status_code == 404


def test_queue_pages_show_depth_age_and_their_history(
    runtime: Runtime, client: TestClient, owner: tuple[TestClient, int]
) -> None:
    browser, project = owner
    source = {
        "name": "main",
        "library": "rq",
        "url": "redis://127.0.0.1:6399/0",
        "queues": ["default"],
    }
    assert client.post("/api/v1/sources", json=source).status_code == 201
    with runtime.engine.connect() as conn:
        source_id = next(r["id"] for r in list_sources(conn, project) if r["name"] == "main")
    now = datetime.now(UTC)
    for minutes, depth in ((50, 3), (30, 9), (10, 14), (1, 21)):
        sample = SourceSample(
            taken_at=now - timedelta(minutes=minutes),
            queues=[QueueSample("default", depth, oldest_age_seconds=depth * 60.0)],
        )
        runtime.writer.run_sync(record_sweep, RecordedSweep(source_id, project, sample))

    listed = browser.get(f"/p/{project}/queues").text
    assert "/queues/main/default" in listed and 'class="sparkline"' in listed
    assert ">21<" in listed and "21 min" in listed
    detail = browser.get(f"/p/{project}/queues/main/default", params={"window": "1"})
    assert detail.status_code == 200
    assert detail.text.count('class="chart"') == 2 and "depth 21" in detail.text


def test_every_live_page_also_answers_its_live_fragment(
    runtime: Runtime, client: TestClient, owner: tuple[TestClient, int]
) -> None:
    browser, project = owner
    check = client.post("/api/v1/checks", json={"name": "backup"}).json()
    client.get(f"/ping/{check['uuid']}")
    events = run_events("job-1", "charge", "billing", True, datetime.now(UTC))
    assert client.post("/api/v1/events", json=events).status_code == 202
    run_id = re.search(r'data-run="(\d+)"', browser.get(f"/p/{project}/tasks").text)
    assert run_id is not None
    source = {"name": "main", "library": "rq", "url": "redis://127.0.0.1:6399/0"}
    assert client.post("/api/v1/sources", json=source).status_code == 201
    with runtime.engine.connect() as conn:
        source_id = next(r["id"] for r in list_sources(conn, project) if r["name"] == "main")
    sample = SourceSample(taken_at=datetime.now(UTC), queues=[QueueSample("default", 2)])
    runtime.writer.run_sync(record_sweep, RecordedSweep(source_id, project, sample))

    live_pages = [
        "/",
        "/checks",
        f"/checks/{check['uuid']}",
        "/tasks?status=failed",
        f"/tasks/{run_id.group(1)}",
        "/tasks/errors",
        "/tasks/stats",
        "/queues",
        "/queues/main/default",
        "/workers",
        "/incidents",
    ]
    for path in live_pages:
        page = browser.get(f"/p/{project}{path}")
        assert page.status_code == 200 and "data-live" in page.text, path
        fragment = browser.get(f"/p/{project}{path}", headers={"X-Live-Fragment": "1"})
        assert fragment.status_code == 200, path
        assert "<html" not in fragment.text and fragment.text.strip(), path
