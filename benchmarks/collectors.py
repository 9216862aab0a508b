"""Goal: one sample of 100 queues holding 1 M waiting jobs takes < 50 ms and O(queues) Redis
commands, whatever the depth.

Fills Redis (database 12 by default) with each library's layout, written directly in the
shape the library writes it (see each collector's docstring), then times `sample()`.

    .venv/bin/python benchmarks/collectors.py [--redis redis://127.0.0.1:6379/12]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import redis

from jobpulse.collectors import SourceConfig, make_collector

QUEUES = 100
JOBS = 1_000_000
BATCH = 5000


def _push(client: redis.Redis, key: str, count: int, make: Callable[[int], bytes | str]) -> None:
    for start in range(0, count, BATCH):
        client.rpush(key, *[make(i) for i in range(start, min(count, start + BATCH))])


def fill_rq(client: redis.Redis, names: list[str]) -> SourceConfig:
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    for name in names:
        client.sadd("rq:queues", f"rq:queue:{name}")
        _push(client, f"rq:queue:{name}", JOBS // QUEUES, lambda i, n=name: f"{n}-{i}")
        client.hset(f"rq:job:{name}-0", "enqueued_at", stamp)
    return SourceConfig(name="b", library="rq", url="", queues=tuple(names))


def fill_celery(client: redis.Redis, names: list[str]) -> SourceConfig:
    body = json.dumps({"body": "e30=", "headers": {"task": "t"}, "properties": {}})
    for name in names:
        client.sadd(f"_kombu.binding.{name}", f"{name}\x06\x16\x06\x16{name}")
        _push(client, name, JOBS // QUEUES, lambda i: body.replace("{}", f'{{"n": {i}}}'))
    return SourceConfig(name="b", library="celery", url="")


def fill_dramatiq(client: redis.Redis, names: list[str]) -> SourceConfig:
    for name in names:
        _push(client, f"dramatiq:{name}", JOBS // QUEUES, lambda i, n=name: f"{n}-{i}")
        client.hset(f"dramatiq:{name}.msgs", f"{name}-0", json.dumps({"message_timestamp": 1}))
    return SourceConfig(name="b", library="dramatiq", url="", queues=tuple(names))


def fill_huey(client: redis.Redis, names: list[str]) -> SourceConfig:
    for name in names:
        _push(client, f"huey.redis.{name}", JOBS // QUEUES, lambda i: f"message-{i}")
    return SourceConfig(name="b", library="huey", url="", queues=tuple(names))


def fill_arq(client: redis.Redis, names: list[str]) -> SourceConfig:
    now_ms = time.time() * 1000
    for name in names:
        per_queue = JOBS // QUEUES
        for start in range(0, per_queue, BATCH):
            members = {f"{name}-{i}": now_ms - i for i in range(start, start + BATCH)}
            client.zadd(name, members)
    return SourceConfig(name="b", library="arq", url="", queues=tuple(names))


def _clean(client: redis.Redis, run: str) -> None:
    """Delete only this run's keys (other users of the database are left alone)."""
    keys = list(client.scan_iter(match=f"*{run}*", count=1000))
    for start in range(0, len(keys), 500):
        client.unlink(*keys[start : start + 500])
    client.srem("rq:queues", *[f"rq:queue:{run}q{i}" for i in range(QUEUES)])


FILLERS = {
    "rq": fill_rq,
    "celery": fill_celery,
    "dramatiq": fill_dramatiq,
    "huey": fill_huey,
    "arq": fill_arq,
}


def bench(url: str, library: str, rounds: int = 20) -> tuple[float, int, int]:
    client = redis.Redis.from_url(url)
    run = f"bench{uuid.uuid4().hex[:8]}"
    names = [f"{run}q{i}" for i in range(QUEUES)]
    config = FILLERS[library](client, names)
    config = SourceConfig(config.name, config.library, url, config.queues)
    collector = make_collector(config)
    collector.sample(datetime.now(UTC))  # connect
    timings, commands, depth = [], 0, 0
    for _ in range(rounds):
        started = time.perf_counter()
        result = collector.sample(datetime.now(UTC))
        timings.append(time.perf_counter() - started)
        assert result.error is None, result.error
        commands, depth = result.commands, sum(q.depth for q in result.queues)
    collector.close()
    _clean(client, run)
    return statistics.median(timings) * 1000, commands, depth


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/12")
    parser.add_argument("--library", choices=sorted(FILLERS), action="append")
    args = parser.parse_args()
    for library in args.library or list(FILLERS):
        ms, commands, depth = bench(args.redis, library)
        print(
            f"{library:9s} {QUEUES} queues, {depth:,} waiting: "
            f"{ms:.1f} ms per sample (median of 20), {commands} Redis commands"
        )


if __name__ == "__main__":
    main()
