"""APScheduler job events become check pings on a real jobpulse server."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler

from jobpulse.sdk.client import Client
from jobpulse.sdk.integrations.apscheduler import APSchedulerIntegration
from tests.integration.sdk.conftest import create_check, get_json
from tests.server import ServerProcess


def _kinds(server: ServerProcess, check: dict[str, object]) -> list[str]:
    found = get_json(server, f"/api/v1/checks/{check['uuid']}/pings")
    items = found["pings"] if isinstance(found, dict) else found
    assert isinstance(items, list)
    # In arrival order: ids grow with each ping stored ("at" strings may not sort as times).
    return [str(p["kind"]) for p in sorted(items, key=lambda p: int(p["id"]))]


def test_runs_errors_and_missed_runs_become_pings(jobpulse_server: ServerProcess) -> None:
    good = create_check(jobpulse_server, f"aps-{uuid.uuid4().hex[:8]}")
    bad = create_check(jobpulse_server, f"aps-{uuid.uuid4().hex[:8]}")
    missed = create_check(jobpulse_server, f"aps-{uuid.uuid4().hex[:8]}")
    client = Client(jobpulse_server.url, ping_key=str(good["ping_key"]))
    scheduler = BackgroundScheduler(timezone=UTC)
    integration = APSchedulerIntegration(scheduler, checks={"missed": str(missed["uuid"])})
    integration.setup(client)
    ran = threading.Event()

    def explode() -> None:
        try:
            raise ValueError("no rows")
        finally:
            ran.set()

    now = datetime.now(UTC)
    scheduler.add_job(lambda: None, "date", run_date=now, id=str(good["slug"]))
    scheduler.add_job(explode, "date", run_date=now, id=str(bad["slug"]))
    scheduler.add_job(
        lambda: None,
        "date",
        run_date=now - timedelta(minutes=5),
        id="missed",
        misfire_grace_time=1,
    )
    scheduler.start()
    try:
        assert ran.wait(10)
        for _ in range(100):
            integration.wait_idle()
            if len(_kinds(jobpulse_server, good)) == 2 and len(_kinds(jobpulse_server, bad)) == 2:
                break
            threading.Event().wait(0.05)
    finally:
        scheduler.shutdown()
    integration.wait_idle()

    assert _kinds(jobpulse_server, good) == ["start", "success"]
    assert _kinds(jobpulse_server, bad) == ["start", "fail"]
    assert _kinds(jobpulse_server, missed) == ["log"]
    state = get_json(jobpulse_server, f"/api/v1/checks/{bad['uuid']}")
    assert isinstance(state, dict) and state["down_reason"] == "failed"
