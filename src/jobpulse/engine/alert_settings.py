"""Settings of the alerting engine (JOBPULSE_ALERTS_*), apart from the node's core settings."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class AlertSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="JOBPULSE_ALERTS_", extra="ignore")

    interval_seconds: float = Field(default=1.0, gt=0, le=60)
    notifier_enabled: bool = True
    notifier_interval_seconds: float = Field(default=0.5, gt=0, le=60)
    notifier_batch: int = Field(default=16, ge=1, le=100)  # sent in parallel
    lease_seconds: float = Field(default=60.0, ge=1, le=3600)
    max_attempts: int = Field(default=8, ge=1, le=100)
    retry_base_seconds: float = Field(default=5.0, gt=0, le=3600)
    retry_cap_seconds: float = Field(default=3600.0, gt=0, le=86400)
    leader_retry_seconds: float = Field(default=2.0, gt=0, le=10)
    probes_enabled: bool = True
    # Resolved incidents (with their notices and delivery log) are kept this long.
    retention_days: float = Field(default=90.0, gt=0)
    prune_interval_seconds: float = Field(default=86400.0, gt=0)
