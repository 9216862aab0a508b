"""A background loop on its own thread: call `tick()` every `interval` seconds until stopped."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)


class PeriodicLoop:
    def __init__(self, name: str, interval: float, tick: Callable[[], object]) -> None:
        self.name = name
        self._interval = interval
        self._tick = tick
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_tick_monotonic: float | None = None
        self.last_error: str | None = None

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(15)
            self._thread = None

    def wake(self) -> None:
        """Run the next tick now rather than at the end of the interval."""
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._tick()
                self.last_tick_monotonic = time.monotonic()
                self.last_error = None
            except Exception as exc:
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.exception("%s tick failed", self.name)
            self._wake.wait(self._interval)
            self._wake.clear()
