"""The notifier (every node): claims due outbox rows, sends each through its channel, and
records the outcome; failures retry with exponential backoff until a limit, then `failed`."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from datetime import UTC, datetime, timedelta
from typing import Any

from jobpulse.engine.loop import PeriodicLoop
from jobpulse.notify.base import Channel, ChannelConfigError, DeliveryError, Notice, NoticeKind
from jobpulse.store.outbox import (
    Claimed,
    Outcome,
    RetryPolicy,
    claim_due,
    record_outcome,
    release_claims,
)
from jobpulse.store.rows import each
from jobpulse.store.writer import GroupCommitWriter

log = logging.getLogger(__name__)

ChannelBuilder = Callable[[str, Mapping[str, Any]], Channel]


def default_builder(kind: str, config: Mapping[str, Any]) -> Channel:
    from jobpulse.notify.registry import build_channel

    return build_channel(kind, config)


def notice_from(notice_id: str, payload: Mapping[str, Any]) -> Notice:
    return Notice(
        id=notice_id,
        kind=NoticeKind(payload["kind"]),
        severity=payload["severity"],
        title=payload["title"],
        subject=payload["subject"],
        since=datetime.fromisoformat(payload["since"]),
        summary=payload["summary"],
        url=payload["url"],
        dedup_key=payload["dedup_key"],
        labels=dict(payload.get("labels", {})),
    )


def _claim(conn: Any, argument: tuple[datetime, int, timedelta]) -> list[Claimed]:
    return claim_due(conn, *argument)


def _release(conn: Any, now: datetime) -> int:
    return release_claims(conn, now)


claim_handler = each(_claim)
outcome_handler = each(record_outcome)
release_handler = each(_release)


def deliver(claimed: Claimed, builder: ChannelBuilder, now: Callable[[], datetime]) -> Outcome:
    """Send one claimed notice; never raises."""
    started = time.perf_counter()

    def outcome(error: str | None = None, retryable: bool = True) -> Outcome:
        elapsed = (time.perf_counter() - started) * 1000
        return Outcome(claimed, now(), elapsed, error, retryable)

    if claimed.channel_kind is None or claimed.channel_config is None:
        return outcome("the channel was deleted", retryable=False)
    try:
        channel = builder(claimed.channel_kind, claimed.channel_config)
        channel.send(notice_from(claimed.notice_id, claimed.payload))
    except ChannelConfigError as exc:
        return outcome(f"channel config: {exc}", retryable=False)
    except DeliveryError as exc:
        return outcome(str(exc) or type(exc).__name__, exc.retryable)
    except Exception as exc:  # a channel bug must not stop the notifier
        log.exception("channel %s raised", claimed.channel_kind)
        return outcome(f"{type(exc).__name__}: {exc}")
    return outcome()


class Notifier:
    def __init__(
        self,
        writer: GroupCommitWriter,
        policy: RetryPolicy,
        *,
        interval: float,
        batch: int,
        lease: timedelta,
        single_node: bool,
        builder: ChannelBuilder = default_builder,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._writer = writer
        self._policy = policy
        self._batch = batch
        self._lease = lease
        self._single_node = single_node
        self.builder = builder
        self.clock = clock
        self.loop = PeriodicLoop("jobpulse-notifier", interval, self.tick)

    def start(self) -> None:
        if self._single_node:
            released = self._writer.run_sync(release_handler, self.clock())
            if released:
                log.info(
                    "%d notices were being sent when the node stopped; sending again", released
                )
        self.loop.start()

    def stop(self) -> None:
        self.loop.stop()

    def tick(self) -> list[str]:
        """Claim, send and record one batch; the new status of each row."""
        claimed: list[Claimed] = self._writer.run_sync(
            claim_handler, (self.clock(), self._batch, self._lease)
        )
        if not claimed:
            return []
        statuses = []
        # The whole batch is sent side by side: one slow receiver does not hold up the rest,
        # and every send ends within a channel timeout, well inside the claim's lease. Each
        # outcome is recorded as soon as it is known, keeping the crash window short.
        with ThreadPoolExecutor(len(claimed), "jobpulse-send") as pool:
            sends = [pool.submit(deliver, item, self.builder, self.clock) for item in claimed]
            for done in as_completed(sends):
                outcome = done.result()
                statuses.append(self._writer.run_sync(outcome_handler, (outcome, self._policy)))
                if outcome.error is not None:
                    log.warning(
                        "notice %s not delivered: %s", outcome.claimed.notice_id, outcome.error
                    )
        return statuses
