"""The evaluator loop: flips checks whose deadline has passed, within a tick of it."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from jobpulse.store.pings import EvaluationResult, evaluate_handler
from jobpulse.store.writer import GroupCommitWriter

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class Evaluator:
    def __init__(
        self,
        writer: GroupCommitWriter,
        interval: float,
        clock: Clock = utc_now,
        on_result: Callable[[EvaluationResult], None] | None = None,
    ) -> None:
        self._writer = writer
        self._interval = interval
        self._clock = clock
        self._on_result = on_result
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_tick_monotonic: float | None = None
        self.last_error: str | None = None
        # Called after every pass with (seconds, failed): metrics subscribe here.
        self.tick_observers: list[Callable[[float, bool], None]] = []

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name="jobpulse-evaluator", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None

    def tick(self) -> EvaluationResult:
        """Evaluate once; repeats while a full page of due checks came back."""
        total = EvaluationResult(0, [])
        while True:
            result: EvaluationResult = self._writer.run_sync(evaluate_handler, self._clock())
            total = EvaluationResult(total.checked + result.checked, total.flips + result.flips)
            if result.checked < 1000:
                return total

    def alive(self, max_silence: float) -> bool:
        last = self.last_tick_monotonic
        return last is not None and time.monotonic() - last <= max_silence

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            failed = True
            try:
                result = self.tick()
                if self._on_result is not None and result.flips:
                    self._on_result(result)
                self.last_tick_monotonic = time.monotonic()
                self.last_error = None
                failed = False
            except Exception as exc:
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.exception("evaluator tick failed")
            for observer in self.tick_observers:
                observer(time.monotonic() - started, failed)
            self._stop.wait(self._interval)
