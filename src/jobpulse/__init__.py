"""jobpulse: monitoring for background jobs, scheduled jobs, workers and queues."""

__version__ = "0.1.0"

from typing import Any


def __getattr__(name: str) -> Any:
    # Lazy, so that `import jobpulse` stays cheap for the server and the CLI.
    if name == "Client":
        from jobpulse.sdk.client import Client

        return Client
    raise AttributeError(f"module 'jobpulse' has no attribute {name!r}")
