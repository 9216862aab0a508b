"""What the served app does at start-up beyond starting the runtime."""

from __future__ import annotations

import gc

from fastapi.testclient import TestClient

from jobpulse.api.app import GC_THRESHOLDS, create_app
from jobpulse.runtime import Runtime
from tests.conftest import make_settings


def test_a_served_app_freezes_start_up_objects_out_of_the_collector(database_url: str) -> None:
    before = gc.get_threshold()
    gc.unfreeze()
    runtime = Runtime(make_settings(database_url))
    try:
        with TestClient(create_app(runtime)) as client:
            assert client.get("/healthz").status_code == 200
            assert gc.get_threshold() == GC_THRESHOLDS
            assert gc.get_freeze_count() > 10_000  # modules, app, pools
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()
        runtime.engine.dispose()
