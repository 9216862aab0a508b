"""Real services the tests talk to. Under CI=true a missing service fails the test; on a
developer's machine it is skipped with the reason."""

from __future__ import annotations

import os
import socket

import pytest

POSTGRES_URL = os.environ.get(
    "JOBPULSE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("JOBPULSE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
AMQP_URL = os.environ.get("JOBPULSE_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")

_PORTS = {"postgresql": 5432, "redis": 6379, "rabbitmq": 5672}


def service_reachable(name: str, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, _PORTS[name]), timeout=2):
            return True
    except OSError:
        return False


def require_service(name: str) -> None:
    if service_reachable(name):
        return
    message = f"{name} is not reachable on 127.0.0.1:{_PORTS[name]}"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message} (CI=true: a needed service must be up)")
    pytest.skip(message)
