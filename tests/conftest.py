"""Shared fixtures. Every storage and API test runs on SQLite and on the real PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from jobpulse.api.app import create_app
from jobpulse.config import Settings
from jobpulse.runtime import Runtime
from jobpulse.store.projects import create_key, ensure_project
from tests.services import POSTGRES_URL, require_service


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: a SQLite file, or a PostgreSQL schema of its own."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'jobpulse.db'}"
        return
    require_service("postgresql")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def make_settings(database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": database_url,
        "evaluator_interval_seconds": 0.1,
        "public_url": "http://testserver",
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def runtime(database_url: str) -> Iterator[Runtime]:
    """A started node without background loops: tests drive the evaluator themselves."""
    node = Runtime(make_settings(database_url))
    node.start(run_loops=False)
    yield node
    node.stop()
    node.engine.dispose()


@pytest.fixture
def api_key(runtime: Runtime) -> str:
    with runtime.engine.begin() as conn:
        return create_key(conn, ensure_project(conn), read_only=False)


@pytest.fixture
def read_only_key(runtime: Runtime) -> str:
    with runtime.engine.begin() as conn:
        return create_key(conn, ensure_project(conn), read_only=True)


@pytest.fixture
def client(runtime: Runtime, api_key: str) -> Iterator[TestClient]:
    app = create_app(runtime, manage_runtime=False)
    with TestClient(app, headers={"Authorization": f"Bearer {api_key}"}) as test_client:
        yield test_client
