from __future__ import annotations

import os

from celery import Celery

app = Celery("jobpulse_test", broker=os.environ["JOBPULSE_TEST_BROKER_URL"])
app.conf.broker_transport_options = {
    "global_keyprefix": os.environ.get("JOBPULSE_TEST_KEYPREFIX", ""),
}
app.conf.worker_hijack_root_logger = False


@app.task(name="jobpulse_test.noop")
def noop() -> str:
    return "ok"


@app.task(name="jobpulse_test.block")
def block(seconds: float = 60.0) -> None:
    from tests.integration.queue_apps.jobs import block as hold

    hold(seconds)
