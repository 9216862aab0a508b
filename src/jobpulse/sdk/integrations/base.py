"""What every queue-library integration shares: its options, the client and a recorder."""

from __future__ import annotations

from typing import TYPE_CHECKING

from jobpulse.sdk.recorder import TaskRecorder

if TYPE_CHECKING:
    from jobpulse.sdk.client import Client


class QueueIntegration:
    """`setup(client)` keeps the client, makes a recorder, then calls `install()`, where a
    subclass hooks into its library (signals, middleware, or patches applied once)."""

    def __init__(self, *, record_args: bool = True, heartbeat_interval: float = 10.0) -> None:
        self.record_args = record_args
        self.heartbeat_interval = heartbeat_interval

    def setup(self, client: Client) -> None:
        self.client = client
        self.recorder = TaskRecorder(client, record_args=self.record_args)
        self.install()

    def install(self) -> None:
        raise NotImplementedError
