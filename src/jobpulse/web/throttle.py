"""Slows password guessing: after a few failed sign-ins for one email from one address, that
pair waits. Kept in memory per process: enough to make guessing impractical, nothing to run."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

MAX_FAILURES = 10
WINDOW_SECONDS = 15 * 60
MAX_TRACKED = 10_000


class LoginThrottle:
    def __init__(
        self,
        max_failures: int = MAX_FAILURES,
        window_seconds: float = WINDOW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._max = max_failures
        self._window = window_seconds
        self._clock = clock
        self._failures: dict[tuple[str, str], deque[float]] = {}

    def _recent(self, key: tuple[str, str]) -> deque[float]:
        found = self._failures.get(key, deque())
        horizon = self._clock() - self._window
        while found and found[0] <= horizon:
            found.popleft()
        return found

    def retry_after(self, email: str, address: str) -> float:
        """Seconds to wait before this pair may try again (0: go ahead)."""
        found = self._recent((email, address))
        if len(found) < self._max:
            return 0.0
        return max(found[0] + self._window - self._clock(), 0.0)

    def failed(self, email: str, address: str) -> None:
        if len(self._failures) >= MAX_TRACKED:
            self._failures.clear()  # bounded memory under a flood; the flood starts over
        key = (email, address)
        found = self._recent(key)
        found.append(self._clock())
        self._failures[key] = found

    def succeeded(self, email: str, address: str) -> None:
        self._failures.pop((email, address), None)
