"""Celery on RabbitMQ (AMQP 0-9-1). Each configured queue is read with a *passive*
`queue.declare`, which creates nothing and answers the number of ready messages and of
consumers. AMQP exposes neither message ages nor unacknowledged counts this way, so those are
reported as unknown with the reason.

With the option `management_url` (the management plugin, e.g. `http://host:15672`), queues
are read from its HTTP API instead, page by page (`GET /api/queues/VHOST?page=&page_size=`):
queues are discovered, and unacknowledged counts (messages delivered to workers) are known.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from jobpulse.collectors.base import Collector, QueueSample, SourceConfig, WorkerObservation

NO_AGE = "AMQP does not expose message ages without consuming"
NO_TIMESTAMP = "the oldest message carries no timestamp property"
PAGE_SIZE = 500
COLUMNS = "name,messages_ready,messages_unacknowledged,consumers,head_message_timestamp"
NO_UNACKED = "a passive queue.declare does not report unacknowledged messages"
DEFAULT_QUEUES = ("celery",)


class CeleryAmqpCollector(Collector):
    library = "celery"

    def __init__(self, config: SourceConfig) -> None:
        super().__init__(config)
        self._connection: Any = None

    def _channel(self) -> Any:
        if self._connection is None:
            import amqp

            parts = urlsplit(self.config.url)
            vhost = unquote(parts.path[1:]) if parts.path not in ("", "/") else "/"
            connection = amqp.Connection(
                host=f"{parts.hostname or '127.0.0.1'}:{parts.port or 5672}",
                userid=unquote(parts.username or "guest"),
                password=unquote(parts.password or "guest"),
                virtual_host=vhost,
                connect_timeout=self.config.timeout_seconds,
                read_timeout=self.config.timeout_seconds,
                write_timeout=self.config.timeout_seconds,
            )
            connection.connect()
            self._connection = connection
        return self._connection.channel()

    def read(self, now: datetime) -> tuple[list[QueueSample], list[WorkerObservation]]:
        if self.config.options.get("management_url"):
            return self.read_management(now), []
        import amqp

        samples = []
        channel = self._channel()
        for name in self.config.queues or DEFAULT_QUEUES:
            self.commands += 1
            try:
                _, ready, consumers = channel.queue_declare(queue=name, passive=True)
            except amqp.exceptions.NotFound:
                # The broker closes the channel on a missing queue; the queue simply has no
                # messages yet (Celery declares it on first use).
                channel = self._channel()
                samples.append(self._sample(name, 0, 0))
                continue
            samples.append(self._sample(name, int(ready), int(consumers)))
        channel.close()
        return samples, []

    @staticmethod
    def _sample(name: str, ready: int, consumers: int) -> QueueSample:
        return QueueSample(
            queue=name,
            depth=ready,
            oldest_age_seconds=None,
            oldest_age_reason=NO_AGE,
            in_progress=None,
            consumers=consumers,
        )

    def read_management(self, now: datetime) -> list[QueueSample]:
        import httpx

        parts = urlsplit(self.config.url)
        base = str(self.config.options["management_url"]).rstrip("/")
        vhost = unquote(parts.path[1:]) if parts.path not in ("", "/") else "/"
        auth = (unquote(parts.username or "guest"), unquote(parts.password or "guest"))
        wanted = set(self.config.queues)
        limit = int(self.config.options.get("max_queues", 1000))
        samples: list[QueueSample] = []
        page, pages = 1, 1
        with httpx.Client(auth=auth, timeout=self.config.timeout_seconds) as http:
            while page <= pages and len(samples) < limit:
                self.commands += 1
                response = http.get(
                    f"{base}/api/queues/{quote(vhost, safe='')}",
                    params={"page": page, "page_size": PAGE_SIZE, "columns": COLUMNS},
                )
                response.raise_for_status()
                body = response.json()
                pages = int(body.get("page_count", 1))
                for item in body.get("items", []):
                    name = str(item.get("name", ""))
                    if (name in wanted) if wanted else _is_work_queue(name):
                        samples.append(_from_management(item, now))
                page += 1
        return samples[:limit]

    def reset(self) -> None:
        if self._connection is not None:
            try:
                self._connection.collect()
            finally:
                self._connection = None


def _is_work_queue(name: str) -> bool:
    """Celery's own control and event queues are not work queues."""
    return bool(name) and "pidbox" not in name and not name.startswith("celeryev.")


def _from_management(item: dict[str, Any], now: datetime) -> QueueSample:
    ready = int(item.get("messages_ready") or 0)
    head = item.get("head_message_timestamp")
    age = max(0.0, now.timestamp() - float(head)) if head else (0.0 if not ready else None)
    return QueueSample(
        queue=str(item["name"]),
        depth=ready,
        oldest_age_seconds=age,
        oldest_age_reason=None if age is not None else NO_TIMESTAMP,
        in_progress=int(item.get("messages_unacknowledged") or 0),
        consumers=int(item.get("consumers") or 0),
    )
