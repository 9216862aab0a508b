"""Django: monitor management commands run by cron.

    from jobpulse.sdk.integrations.django import monitored_command

    @monitored_command()            # check slug = the command's name, e.g. "send_digest"
    class Command(BaseCommand):
        def handle(self, *args, **options): ...

Settings come from `settings.JOBPULSE = {"URL": ..., "API_KEY": ..., "PING_KEY": ...}`, else
from the JOBPULSE_* environment variables.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from jobpulse.sdk.client import Client

C = TypeVar("C", bound=type)
_client: Client | None = None


def client_from_settings() -> Client:
    """One Client per process, built from `settings.JOBPULSE` (then the environment)."""
    global _client
    if _client is None:
        from django.conf import settings

        config: dict[str, Any] = getattr(settings, "JOBPULSE", {}) or {}
        _client = Client(config.get("URL"), config.get("API_KEY"), ping_key=config.get("PING_KEY"))
    return _client


def monitored_command(
    check: str | None = None, *, create: bool = False, client: Client | None = None
) -> Callable[[C], C]:
    """Class decorator for a management `Command`: each `handle()` call is one monitored run."""

    def decorate(command_class: C) -> C:
        slug = check or command_class.__module__.rsplit(".", 1)[-1].replace("_", "-")
        handle: Callable[..., Any] = command_class.handle  # type: ignore[attr-defined]

        @functools.wraps(handle)
        def monitored_handle(self: Any, *args: Any, **options: Any) -> Any:
            chosen = client or client_from_settings()
            with chosen.monitor(slug, create=create):
                return handle(self, *args, **options)

        command_class.handle = monitored_handle  # type: ignore[attr-defined]
        return command_class

    return decorate
