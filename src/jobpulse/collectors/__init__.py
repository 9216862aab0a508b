"""Queue and worker probes, one module per broker/library, behind `Collector`."""

from __future__ import annotations

from jobpulse.collectors.base import LIBRARIES, Collector, SourceConfig


def make_collector(config: SourceConfig) -> Collector:
    """The collector for a source: chosen by its library and its URL's scheme."""
    scheme = config.url.split(":", 1)[0].lower()
    if config.library == "celery" and scheme in ("amqp", "amqps", "pyamqp"):
        from jobpulse.collectors.celery_amqp import CeleryAmqpCollector

        return CeleryAmqpCollector(config)
    if scheme not in ("redis", "rediss", "unix"):
        raise ValueError(f"{config.library} sources need a redis:// URL")
    if config.library == "celery":
        from jobpulse.collectors.celery_redis import CeleryRedisCollector

        return CeleryRedisCollector(config)
    if config.library == "rq":
        from jobpulse.collectors.rq import RqCollector

        return RqCollector(config)
    if config.library == "arq":
        from jobpulse.collectors.arq import ArqCollector

        return ArqCollector(config)
    if config.library == "dramatiq":
        from jobpulse.collectors.dramatiq import DramatiqCollector

        return DramatiqCollector(config)
    if config.library == "huey":
        from jobpulse.collectors.huey import HueyCollector

        return HueyCollector(config)
    if config.library == "rearq":
        from jobpulse.collectors.rearq import RearqCollector

        return RearqCollector(config)
    raise ValueError(f"unknown library {config.library!r}; one of {', '.join(LIBRARIES)}")


__all__ = ["LIBRARIES", "Collector", "SourceConfig", "make_collector"]
