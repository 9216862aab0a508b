"""Inside a task run by an integration, log records carry the task's ids (Celery, eager)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from celery import Celery

from jobpulse.sdk.client import Client
from jobpulse.sdk.integrations.celery import CeleryIntegration
from jobpulse.sdk.logging import JsonLinesFormatter, TaskContextFilter
from tests.integration.sdk.receiver import EventReceiver


def test_records_logged_in_a_task_name_it_and_records_after_it_do_not(
    receiver: EventReceiver, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = Celery("jobpulse_sdk_logging", broker="memory://")
    app.conf.task_always_eager = True
    logger = logging.getLogger("jobpulse.tests.task")

    @app.task(name="sdk.logs")
    def logs() -> None:
        logger.warning("inside the task")

    client = Client(receiver.url, spool_dir=tmp_path / "spool", flush_interval=0.1)
    integration = CeleryIntegration()
    integration.setup(client)
    caplog.handler.addFilter(TaskContextFilter())
    try:
        with caplog.at_level(logging.INFO, logger="jobpulse.tests.task"):
            job_id = logs.apply().id
            logger.warning("after the task")
    finally:
        integration.teardown()
        client.close(timeout=2)

    inside, after = (json.loads(JsonLinesFormatter().format(r)) for r in caplog.records)
    assert (inside["job_id"], inside["task_name"]) == (job_id, "sdk.logs")
    assert inside["message"] == "inside the task"
    assert after["job_id"] is None and after["task_name"] is None
