"""`client.monitor(check)`: a decorator and context manager for scheduled jobs.

Each run pings `start` with a fresh `rid`, then success, or `fail` with the exception type and
message (and the traceback's tail) in the body. The exception itself always propagates.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import uuid
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from jobpulse.sdk.client import failure_body

if TYPE_CHECKING:
    from jobpulse.sdk.client import Client

F = TypeVar("F", bound=Callable[..., Any])


class Monitor:
    def __init__(self, client: Client, check: str, *, create: bool = False) -> None:
        self.client = client
        self.check = check
        self.create = create
        self._rids: list[str] = []

    @property
    def rid(self) -> str | None:
        """The rid of the innermost run in progress."""
        return self._rids[-1] if self._rids else None

    def start(self) -> str:
        rid = str(uuid.uuid4())
        self.client.ping(self.check, "start", rid=rid, create=self.create)
        return rid

    def finish(
        self,
        rid: str,
        error_type: type[BaseException] | None = None,
        error: BaseException | None = None,
        tb: TracebackType | None = None,
    ) -> None:
        if error_type is None:
            self.client.ping(self.check, rid=rid, create=self.create)
        else:
            body = failure_body(error_type, error, tb)
            self.client.ping(self.check, "fail", rid=rid, body=body, create=self.create)

    # -- context managers ----------------------------------------------------------------

    def __enter__(self) -> Monitor:
        self._rids.append(self.start())
        return self

    def __exit__(
        self,
        error_type: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.finish(self._rids.pop(), error_type, error, tb)

    async def __aenter__(self) -> Monitor:
        self._rids.append(await asyncio.to_thread(self.start))
        return self

    async def __aexit__(
        self,
        error_type: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await asyncio.to_thread(self.finish, self._rids.pop(), error_type, error, tb)

    # -- decorator -----------------------------------------------------------------------

    def __call__(self, function: F) -> F:
        """Wrap `function` (sync or async) so that each call is one monitored run."""
        if inspect.iscoroutinefunction(function):

            @functools.wraps(function)
            async def run_async(*args: Any, **kwargs: Any) -> Any:
                async with Monitor(self.client, self.check, create=self.create):
                    return await function(*args, **kwargs)

            return run_async  # type: ignore[return-value]

        @functools.wraps(function)
        def run(*args: Any, **kwargs: Any) -> Any:
            with Monitor(self.client, self.check, create=self.create):
                return function(*args, **kwargs)

        return run  # type: ignore[return-value]
