"""The jobpulse Python SDK: `Client`, its transport, and integrations per library.

The core needs only httpx; integrations live in `jobpulse.sdk.integrations.<library>`.
"""

from jobpulse.sdk.client import Client, Integration
from jobpulse.sdk.context import TaskContext, current_task
from jobpulse.sdk.transport import Transport

__all__ = ["Client", "Integration", "TaskContext", "Transport", "current_task"]
