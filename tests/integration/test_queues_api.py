"""Sources, queues, samples and workers through the API and the store (SQLite and
PostgreSQL): credentials never shown back, history by step, heartbeats, downsampling."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from jobpulse.collectors.definitions import SourcesFileError
from jobpulse.domain.queues import QueueSample, SourceSample
from jobpulse.engine.collectors import maintain_queues
from jobpulse.runtime import Runtime
from jobpulse.store.queue_sources import list_sources
from jobpulse.store.queues import RecordedSweep, record_sweep
from jobpulse.store.queues_tables import queue_samples

SOURCE = {
    "name": "main",
    "library": "rq",
    "url": "redis://admin:s3cret@127.0.0.1:6399/0",
    "queues": ["default"],
}


def _source_id(runtime: Runtime, name: str = "main") -> tuple[int, int]:
    with runtime.engine.connect() as conn:
        rows = [r for r in list_sources(conn, 1) if r["name"] == name]
    return rows[0]["id"], rows[0]["project_id"]


def _record(runtime: Runtime, at: datetime, depth: int, error: str | None = None) -> None:
    source_id, project_id = _source_id(runtime)
    queues = [] if error else [QueueSample("default", depth, oldest_age_seconds=depth * 1.5)]
    sample = SourceSample(taken_at=at, queues=queues, error=error)
    runtime.writer.run_sync(record_sweep, RecordedSweep(source_id, project_id, sample))


def test_sources_are_created_listed_updated_and_deleted_with_the_password_masked(
    client: TestClient,
) -> None:
    created = client.post("/api/v1/sources", json=SOURCE)
    assert created.status_code == 201
    assert created.json()["url"] == "redis://admin:***@127.0.0.1:6399/0"
    assert client.get("/api/v1/sources/main").json()["interval"] == 15
    assert "s3cret" not in client.get("/api/v1/sources").text

    changed = client.patch("/api/v1/sources/main", json={"interval": 30, "enabled": False})
    assert changed.status_code == 200
    assert (changed.json()["interval"], changed.json()["enabled"]) == (30, False)
    assert changed.json()["url"] == "redis://admin:***@127.0.0.1:6399/0"

    assert client.delete("/api/v1/sources/main").status_code == 204
    assert client.get("/api/v1/sources/main").status_code == 404


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"library": "sidekiq"}, "library"),
        ({"url": "http://example.com/"}, "url"),
        ({"url": "amqp://guest:guest@127.0.0.1//"}, "library"),
        ({"interval": 0}, "interval"),
        ({"name": "has space"}, "name"),
        ({"options": {"stall_window_s": "soon"}}, "options.stall_window_s"),
        ({"options": {"stal_window_s": 60}}, "options.stal_window_s"),
    ],
)
def test_bad_sources_are_rejected_with_the_field(
    client: TestClient, change: dict[str, object], field: str
) -> None:
    response = client.post("/api/v1/sources", json=SOURCE | change)
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == field


def test_a_second_source_with_the_same_name_conflicts(client: TestClient) -> None:
    assert client.post("/api/v1/sources", json=SOURCE).status_code == 201
    response = client.post("/api/v1/sources", json=SOURCE)
    assert response.status_code == 409
    assert response.json()["detail"][0]["field"] == "name"


def test_read_only_keys_cannot_change_sources(client: TestClient, read_only_key: str) -> None:
    headers = {"Authorization": f"Bearer {read_only_key}"}
    assert client.post("/api/v1/sources", json=SOURCE, headers=headers).status_code == 403


def test_sources_load_from_a_yaml_file(
    runtime: Runtime, client: TestClient, tmp_path: Path
) -> None:
    path = tmp_path / "sources.yaml"
    path.write_text(
        "sources:\n"
        "  - name: jobs\n    library: dramatiq\n    url: redis://:pw@127.0.0.1:6379/3\n"
        "    interval: 20\n"
        "  - name: rabbit\n    library: celery\n    url: amqp://u:pw@127.0.0.1:5672//\n"
        "    queues: [celery, emails]\n"
    )
    assert runtime.collectors.load_sources_file(str(path)) == 2
    assert runtime.collectors.load_sources_file(str(path)) == 2  # idempotent
    listed = {s["name"]: s for s in client.get("/api/v1/sources").json()["sources"]}
    assert listed["jobs"]["url"] == "redis://:***@127.0.0.1:6379/3"
    assert listed["rabbit"]["queues"] == ["celery", "emails"]

    path.write_text("sources:\n  - name: x\n    library: nope\n    url: redis://h/0\n")
    with pytest.raises(SourcesFileError, match=r"sources\[0\]"):
        runtime.collectors.load_sources_file(str(path))


def test_queue_history_is_summarised_per_step(runtime: Runtime, client: TestClient) -> None:
    assert client.post("/api/v1/sources", json=SOURCE).status_code == 201
    base = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    for second, depth in [(0, 3), (20, 9), (40, 4), (60, 2), (80, 1)]:
        _record(runtime, base + timedelta(seconds=second), depth)
    window = {"from": base.isoformat(), "to": (base + timedelta(minutes=5)).isoformat()}

    by_minute = client.get("/api/v1/queues/default/samples", params=window | {"step": 60})
    raw = client.get("/api/v1/queues/default/samples", params=window | {"step": 0})

    assert by_minute.status_code == 200
    assert [s["depth"] for s in by_minute.json()["samples"]] == [9, 2]
    assert by_minute.json()["samples"][0]["oldest_age_seconds"] == 13.5
    assert [s["depth"] for s in raw.json()["samples"]] == [3, 9, 4, 2, 1]
    assert client.get("/api/v1/queues/nope/samples").status_code == 404
    bad = client.get("/api/v1/queues/default/samples", params={"from": "yesterday"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "from"


def test_a_failed_sweep_marks_every_known_queue_failed_with_the_reason(
    runtime: Runtime, client: TestClient
) -> None:
    assert client.post("/api/v1/sources", json=SOURCE).status_code == 201
    _record(runtime, datetime.now(UTC) - timedelta(seconds=30), 5)
    _record(runtime, datetime.now(UTC), 0, error="ConnectionError: refused")

    (queue,) = client.get("/api/v1/queues").json()["queues"]
    assert (queue["ok"], queue["depth"], queue["error"]) == (
        False,
        None,
        "ConnectionError: refused",
    )
    assert queue["stalled"] is False
    assert client.get("/api/v1/sources/main").json()["last_error"] == "ConnectionError: refused"


def test_sdk_heartbeats_make_workers_alive_stopped_or_gone(client: TestClient) -> None:
    now = datetime.now(UTC).timestamp()
    beat = {
        "worker_id": "w1",
        "hostname": "box",
        "pid": 42,
        "queues": ["default"],
        "current_job": "job-1",
        "library": "celery",
        "ts": now,
        "interval": 10,
    }
    assert client.post("/api/v1/workers/heartbeat", json=beat).status_code == 202
    old = beat | {"worker_id": "w2", "ts": now - 600}
    stopped = beat | {"worker_id": "w3", "state": "offline"}
    assert client.post("/api/v1/workers/heartbeats", json=[old, stopped]).status_code == 202

    workers = {w["worker_id"]: w for w in client.get("/api/v1/workers").json()["workers"]}
    assert workers["w1"]["status"] == "alive"
    assert (workers["w1"]["hostname"], workers["w1"]["pid"]) == ("box", 42)
    assert workers["w1"]["current_job"] == "job-1"
    assert workers["w2"]["status"] == "gone"
    assert workers["w3"]["status"] == "stopped"
    gone = client.get("/api/v1/workers", params={"status": "gone"}).json()["workers"]
    assert [w["worker_id"] for w in gone] == ["w2"]

    invalid = client.post("/api/v1/workers/heartbeat", json={"hostname": "box"})
    assert invalid.status_code == 422


def test_old_samples_are_downsampled_and_ghost_workers_forgotten(
    runtime: Runtime, client: TestClient
) -> None:
    assert client.post("/api/v1/sources", json=SOURCE).status_code == 201
    now = datetime.now(UTC)
    three_days = (now - timedelta(days=3)).replace(second=0, microsecond=0)
    forty_days = (now - timedelta(days=40)).replace(minute=0, second=0, microsecond=0)
    for offset in range(0, 60, 15):
        _record(runtime, three_days + timedelta(seconds=offset), offset)
        _record(runtime, forty_days + timedelta(minutes=offset), offset)
    _record(runtime, now, 1)
    client.post("/api/v1/workers/heartbeat", json={"worker_id": "ghost", "ts": 1_000_000_000})

    while runtime.writer.run_sync(maintain_queues, now):
        pass  # repeats until nothing is left to fold (and the second pass folds minutes)

    with runtime.engine.connect() as conn:
        counts = dict(
            conn.execute(
                select(queue_samples.c.resolution_s, func.count()).group_by(
                    queue_samples.c.resolution_s
                )
            ).all()
        )
    assert counts == {0: 1, 60: 1, 3600: 1}
    assert client.get("/api/v1/workers").json()["workers"] == []
    (queue,) = client.get("/api/v1/queues").json()["queues"]
    assert queue["depth"] == 1


def test_a_flat_queue_with_a_live_sdk_worker_is_stalled_until_a_run_finishes(
    runtime: Runtime, client: TestClient
) -> None:
    from jobpulse.store.tasks_tables import task_runs

    assert client.post("/api/v1/sources", json=SOURCE | {"interval": 10}).status_code == 201
    now = datetime.now(UTC)
    _record(runtime, now - timedelta(seconds=25), 7)
    _record(runtime, now - timedelta(seconds=12), 7)
    _record(runtime, now - timedelta(seconds=2), 8)
    beat = {"worker_id": "w1", "queues": ["default"], "interval": 10}
    assert client.post("/api/v1/workers/heartbeat", json=beat).status_code == 202

    (queue,) = client.get("/api/v1/queues", params={"stalled": True}).json()["queues"]
    assert (queue["stalled"], queue["alive_workers"]) == (True, 1)

    finished = now - timedelta(seconds=3)
    with runtime.engine.begin() as conn:
        conn.execute(
            task_runs.insert().values(
                project_id=1,
                job_id="j1",
                task_name="t",
                queue_name="default",
                status="success",
                finish_time=finished,
                created_at=finished,
                updated_at=finished,
            )
        )
    (queue,) = client.get("/api/v1/queues").json()["queues"]
    assert queue["stalled"] is False
    assert queue["stalled_reason"] == "a run finished in the window"


def test_an_update_that_makes_a_source_invalid_is_rejected(client: TestClient) -> None:
    assert client.post("/api/v1/sources", json=SOURCE).status_code == 201
    response = client.patch("/api/v1/sources/main", json={"url": "amqp://h//"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "library"
    response = client.patch("/api/v1/sources/main", json={"options": {"max_queues": 0}})
    assert response.json()["detail"][0]["field"] == "options.max_queues"
    kept = client.patch("/api/v1/sources/main", json={"options": {"stall_window_s": 60}})
    assert kept.json()["options"] == {"stall_window_s": 60}
    response = client.patch("/api/v1/sources/main", json={"interval": None})
    assert response.json()["detail"][0]["field"] == "interval"
    assert client.patch("/api/v1/sources/nope", json={"interval": 5}).status_code == 404


def test_a_queue_the_broker_no_longer_has_leaves_the_listing(
    runtime: Runtime, client: TestClient
) -> None:
    assert client.post("/api/v1/sources", json=SOURCE).status_code == 201
    _record(runtime, datetime.now(UTC) - timedelta(seconds=5), 3)
    assert len(client.get("/api/v1/queues").json()["queues"]) == 1
    source_id, project_id = _source_id(runtime)
    empty = SourceSample(taken_at=datetime.now(UTC), queues=[])
    runtime.writer.run_sync(record_sweep, RecordedSweep(source_id, project_id, empty))
    assert client.get("/api/v1/queues").json()["queues"] == []
    assert client.get("/api/v1/queues/default/samples").status_code == 404
    history = client.get("/api/v1/queues/default/samples", params={"source": "main", "step": 0})
    assert [s["depth"] for s in history.json()["samples"]] == [3]


def test_the_sdk_heartbeat_payload_is_accepted_as_sent(client: TestClient) -> None:
    from jobpulse.sdk.client import HEARTBEATS_PATH
    from jobpulse.sdk.heartbeat import heartbeat_payload

    payload = heartbeat_payload("celery@box", "celery", ["default"])
    assert client.post(HEARTBEATS_PATH, json=[payload]).status_code == 202
    (worker,) = client.get("/api/v1/workers").json()["workers"]
    assert (worker["worker_id"], worker["status"], worker["queues"]) == (
        "celery@box",
        "alive",
        ["default"],
    )
    stopping = heartbeat_payload("celery@box", "celery", ["default"], state="offline")
    assert client.post(HEARTBEATS_PATH, json=[stopping]).status_code == 202
    assert client.get("/api/v1/workers").json()["workers"][0]["status"] == "stopped"
