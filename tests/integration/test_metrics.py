"""GET /metrics on SQLite and PostgreSQL: parseable, bounded, fed by the writer and the world."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample
from sqlalchemy import Connection, insert

from jobpulse.api.app import create_app
from jobpulse.domain.checks import CheckState
from jobpulse.domain.schedule import Schedule
from jobpulse.runtime import Runtime
from jobpulse.store.projects import ensure_project
from jobpulse.store.rows import schedule_values, state_values
from jobpulse.store.tables import checks
from jobpulse.telemetry.world import ScrapeContext, WorldCollector
from tests.conftest import make_settings


def scrape(client: TestClient) -> dict[str, list[Sample]]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    families: dict[str, list[Sample]] = {}
    for family in text_string_to_metric_families(response.text):
        families[family.name] = list(family.samples)
    return families


def series(families: dict[str, list[Sample]]) -> set[tuple[str, tuple[tuple[str, str], ...]]]:
    return {
        (sample.name, tuple(sorted(sample.labels.items())))
        for samples in families.values()
        for sample in samples
    }


def value(families: dict[str, list[Sample]], metric: str, /, **labels: str) -> float:
    for samples in families.values():
        for sample in samples:
            if sample.name == metric and all(sample.labels.get(k) == v for k, v in labels.items()):
                return sample.value
    raise AssertionError(f"no sample {metric}{labels}")


def insert_distinct_checks(conn: Connection, count: int, status: str = "up") -> None:
    """`count` checks with unique names and slugs: the free text that must never be a label."""
    now = datetime.now(UTC)
    project_id = ensure_project(conn)
    schedule = Schedule()
    rows = [
        {
            "uuid": str(uuid.uuid4()),
            "project_id": project_id,
            "name": f"job {n} {uuid.uuid4().hex}",
            "slug": f"job-{n}-{uuid.uuid4().hex[:8]}",
            "tags": [f"tag{n}"],
            "description": "",
            "n_pings": n,
            "created_at": now,
            "updated_at": now,
            **schedule_values(schedule),
            **{**state_values(CheckState(), schedule), "status": status},
        }
        for n in range(count)
    ]
    conn.execute(insert(checks), rows)


def test_metrics_parse_with_the_prometheus_parser_and_count_checks_by_status(
    client: TestClient,
) -> None:
    made = client.post("/api/v1/checks", json={"name": "nightly", "period": 60, "grace": 30})
    assert client.get(f"/ping/{made.json()['uuid']}").status_code == 200
    client.post("/api/v1/checks", json={"name": "other"})

    families = scrape(client)

    assert value(families, "jobpulse_checks", status="up") == 1
    assert value(families, "jobpulse_checks", status="new") == 1
    assert value(families, "jobpulse_checks", status="down") == 0
    assert value(families, "jobpulse_checks_down", reason="missed") == 0
    assert value(families, "jobpulse_build_info") == 1
    assert (
        value(
            families,
            "jobpulse_http_requests_total",
            route="/api/v1/checks",
            method="POST",
            status="201",
        )
        == 2
    )
    assert value(families, "jobpulse_ingest_batch_size_count") >= 1
    assert value(families, "jobpulse_ingest_commit_duration_seconds_count") >= 1


def test_label_cardinality_stays_flat_after_ten_thousand_distinct_jobs(
    client: TestClient, runtime: Runtime
) -> None:
    with runtime.engine.begin() as conn:
        insert_distinct_checks(conn, 10)
    scrape(client)  # the scrape itself is counted once in the HTTP series
    before = series(scrape(client))

    with runtime.engine.begin() as conn:
        insert_distinct_checks(conn, 10_000, status="down")
    families = scrape(client)

    assert series(families) == before
    assert value(families, "jobpulse_checks", status="down") == 10_000


def test_ping_urls_are_counted_by_route_template_never_by_path(client: TestClient) -> None:
    for _ in range(50):
        client.get(f"/ping/{uuid.uuid4()}")
        client.get(f"/no/such/page/{uuid.uuid4().hex}")
    families = scrape(client)
    routes = {
        sample.labels["route"]
        for sample in families["jobpulse_http_requests"]
        if sample.name == "jobpulse_http_requests_total"
    }
    assert routes == {"/ping/{path}", "unmatched"}
    assert value(families, "jobpulse_http_requests_total", route="unmatched") == 50


def test_each_node_has_its_own_registry(runtime: Runtime, database_url: str) -> None:
    other = Runtime(make_settings(database_url))
    assert other.metrics.registry is not runtime.metrics.registry
    runtime.metrics.observe_request("/x", "GET", 200, 0.01)
    assert b'route="/x"' in runtime.metrics.render()
    assert b'route="/x"' not in other.metrics.render()


class BrokenSource:
    name = "broken"
    tables = ("checks",)

    def collect(self, conn: Connection, context: ScrapeContext) -> Iterable[object]:
        raise RuntimeError("boom")


def test_a_failing_world_source_is_counted_and_does_not_break_the_scrape(
    runtime: Runtime,
) -> None:
    collector = WorldCollector(
        runtime,
        runtime.metrics.scrape_errors,
        sources=[BrokenSource()],  # type: ignore[list-item]
    )
    names = [metric.name for metric in collector.collect()]
    assert names == ["jobpulse_metrics_scrape_duration_seconds"]
    text = runtime.metrics.render().decode()
    assert 'jobpulse_metrics_scrape_errors_total{source="broken"} 1.0' in text


def test_sources_whose_tables_do_not_exist_are_skipped(runtime: Runtime) -> None:
    class FutureSource(BrokenSource):
        name = "future"
        tables = ("no_such_table_yet",)

    collector = WorldCollector(
        runtime,
        runtime.metrics.scrape_errors,
        sources=[FutureSource()],  # type: ignore[list-item]
    )
    assert [metric.name for metric in collector.collect()] == [
        "jobpulse_metrics_scrape_duration_seconds"
    ]


def test_a_metrics_token_is_required_once_configured(database_url: str) -> None:
    node = Runtime(make_settings(database_url, metrics_token="scrape-secret"))
    node.start(run_loops=False)
    try:
        with TestClient(create_app(node, manage_runtime=False)) as client:
            assert client.get("/metrics").status_code == 401
            wrong = {"Authorization": "Bearer nope"}
            assert client.get("/metrics", headers=wrong).status_code == 401
            right = {"Authorization": "Bearer scrape-secret"}
            assert client.get("/metrics", headers=right).status_code == 200
    finally:
        node.stop()
        node.engine.dispose()
