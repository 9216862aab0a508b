"""The collector interface: one object per source, `sample(now)` reads the broker once.

A collector only reads, with bounded commands (no KEYS; SCAN with a COUNT and a cap on
iterations; registry keys the library itself maintains). Any failure of the broker becomes a
`SourceSample` with `error` set; `sample` never raises.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from jobpulse.domain.queues import QueueSample, SourceSample, WorkerObservation

__all__ = [
    "Collector",
    "FirstSeen",
    "QueueSample",
    "RedisCollector",
    "SourceConfig",
    "SourceSample",
    "WorkerObservation",
]

LIBRARIES = ("celery", "rq", "arq", "dramatiq", "huey", "rearq")


@dataclass(frozen=True)
class SourceConfig:
    """What a user declares: a broker URL, the library using it, and optional details."""

    name: str
    library: str
    url: str
    queues: tuple[str, ...] = ()
    options: Mapping[str, Any] = field(default_factory=dict)
    interval_seconds: float = 15.0
    timeout_seconds: float = 5.0


def describe_error(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}"[:500] if text else type(exc).__name__


class Collector(ABC):
    library: ClassVar[str]

    def __init__(self, config: SourceConfig) -> None:
        self.config = config
        self.commands = 0

    def sample(self, now: datetime) -> SourceSample:
        """Read the broker once. Never raises: a failure is a sample with `error` set."""
        self.commands = 0
        try:
            queues, workers = self.read(now)
        except Exception as exc:
            self.reset()
            return SourceSample(taken_at=now, error=describe_error(exc), commands=self.commands)
        return SourceSample(taken_at=now, queues=queues, workers=workers, commands=self.commands)

    @abstractmethod
    def read(self, now: datetime) -> tuple[list[QueueSample], list[WorkerObservation]]:
        """Read the queues and workers; may raise on a broker error."""

    def reset(self) -> None:  # noqa: B027 - most collectors hold no connection
        """Drop connections after a failure so the next sample reconnects."""

    def close(self) -> None:
        self.reset()


class RedisCollector(Collector):
    """Base for the Redis-backed libraries: one client, commands sent in pipelines."""

    def __init__(self, config: SourceConfig) -> None:
        super().__init__(config)
        self._client: Any = None

    @property
    def client(self) -> Any:
        if self._client is None:
            import redis

            self._client = redis.Redis.from_url(
                self.config.url,
                socket_timeout=self.config.timeout_seconds,
                socket_connect_timeout=self.config.timeout_seconds,
                retry_on_timeout=False,
            )
        return self._client

    def run(self, build: Sequence[tuple[str, tuple[Any, ...]]]) -> list[Any]:
        """Send (command, args) pairs in one pipeline (no MULTI) and return the replies."""
        if not build:
            return []
        pipe = self.client.pipeline(transaction=False)
        for command, args in build:
            pipe.execute_command(command, *args)
        self.commands += len(build)
        return list(pipe.execute(raise_on_error=True))

    def scan(self, match: str, *, count: int = 1000, max_calls: int = 20) -> Iterator[bytes]:
        """Keys matching `match`, with at most `max_calls` SCAN calls (bounded work)."""
        cursor = 0
        for _ in range(max_calls):
            self.commands += 1
            cursor, keys = self.client.scan(cursor=cursor, match=match, count=count)
            yield from keys
            if int(cursor) == 0:
                return

    def reset(self) -> None:
        if self._client is not None:
            try:
                self._client.close()
            finally:
                self._client = None


class FirstSeen:
    """Remembers when each message was first seen, for libraries whose messages carry no
    enqueue time (Celery, Huey). Each sweep looks at the newest and the oldest message of a
    queue; a message that was once the newest is dated within one sample interval, one seen
    first as the oldest is dated at that sweep (so its age is a lower bound)."""

    def __init__(self, limit: int = 20_000) -> None:
        self._limit = limit
        self._seen: OrderedDict[tuple[str, bytes], datetime] = OrderedDict()

    @staticmethod
    def identity(raw: bytes) -> bytes:
        return hashlib.blake2b(raw, digest_size=16).digest()

    def observe(self, queue: str, raw: bytes, now: datetime) -> datetime:
        key = (queue, self.identity(raw))
        seen = self._seen.get(key)
        if seen is None:
            seen = now
            self._seen[key] = now
            while len(self._seen) > self._limit:
                self._seen.popitem(last=False)
        return seen

    def age(self, queue: str, oldest: bytes | None, newest: bytes | None, now: datetime) -> float:
        if newest is not None:
            self.observe(queue, newest, now)
        if oldest is None:
            return 0.0
        return max(0.0, (now - self.observe(queue, oldest, now)).total_seconds())


def text(value: bytes | str | None) -> str | None:
    if value is None:
        return None
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def as_int(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None
