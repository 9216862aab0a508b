"""A background loop on its own thread: call `tick()` every `interval` seconds until stopped."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)


class PeriodicLoop:
    def __init__(
        self,
        name: str,
        interval: float,
        tick: Callable[[], object],
        hung_after: float | None = None,
    ) -> None:
        self.name = name
        self._interval = interval
        self._tick = tick
        # A pass this long is hung (every I/O in a pass has its own, shorter timeout).
        self.hung_after = hung_after if hung_after is not None else max(300.0, 10 * interval)
        self._pass_started: float | None = None
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

    def problem(self) -> str | None:
        """Why this loop cannot do its work (for /readyz), or None. A pass that fails is
        not a problem here: it is logged, and the next pass tries again."""
        thread = self._thread
        if thread is None:
            return None
        if not thread.is_alive():
            return f"{self.name} loop has stopped" + (
                f": {self.last_error}" if self.last_error else ""
            )
        started = self._pass_started
        if started is not None and time.monotonic() - started > self.hung_after:
            return f"{self.name} loop is stuck in a pass for {time.monotonic() - started:.0f} s"
        return None

    def _run(self) -> None:
        while not self._stop.is_set():
            self._pass_started = time.monotonic()
            try:
                self._tick()
                self.last_tick_monotonic = time.monotonic()
                self.last_error = None
            except Exception as exc:
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.exception("%s tick failed", self.name)
            except BaseException as exc:  # the thread ends: say why in /readyz
                self.last_error = f"{type(exc).__name__}: {exc}"
                raise
            finally:
                self._pass_started = None
            self._wake.wait(self._interval)
            self._wake.clear()
