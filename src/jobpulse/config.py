"""Settings from the environment (JOBPULSE_*) and command-line flags."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict, SettingsError

DEFAULT_DATABASE_URL = "sqlite:///./jobpulse.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="JOBPULSE_", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    public_url: str = ""
    cron_tolerance_seconds: float = Field(default=60.0, ge=0, le=3600)
    evaluator_interval_seconds: float = Field(default=0.2, gt=0, le=60)
    ping_body_limit: int = Field(default=100_000, ge=0, le=10_000_000)
    # Each check keeps its newest pings; older ones are pruned every interval.
    pings_per_check: int = Field(default=1000, ge=10, le=1_000_000)
    pings_prune_interval_seconds: float = Field(default=3600.0, gt=0)
    writer_batch_max: int = Field(default=2000, ge=1, le=100_000)
    # Processes serving HTTP on one port (`jobpulse serve --workers N`); each has its own writer.
    workers: int = Field(default=1, ge=1, le=64)
    log_level: Literal["critical", "error", "warning", "info", "debug"] = "info"
    log_format: Literal["json", "text"] = "json"
    access_log: bool = True
    metrics_max_label_values: int = Field(default=50, ge=1, le=1000)
    # When set, GET /metrics needs "Authorization: Bearer <token>" (Prometheus: bearer_token).
    metrics_token: str = ""
    # Dashboard session cookies: "auto" marks them Secure except over http to a loopback host.
    cookie_secure: Literal["auto", "true", "false"] = "auto"
    # YAML file of queue sources (docs/queues.md), loaded on start.
    sources_file: str = ""

    @field_validator("log_level", "log_format", mode="before")
    @classmethod
    def _lowercase(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if not value.startswith(("sqlite:", "postgresql:", "postgresql+psycopg:", "postgres:")):
            raise ValueError("must start with sqlite:// or postgresql://")
        return value

    @property
    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")


class ConfigError(Exception):
    """A setting has a bad value; the message is one line naming it."""


def load_settings(**overrides: object) -> Settings:
    clean = {k: v for k, v in overrides.items() if v is not None}
    try:
        return Settings(**clean)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise ConfigError(describe_invalid(exc)) from None
    except SettingsError as exc:
        raise ConfigError(f"invalid setting: {str(exc).splitlines()[0]}") from None


def describe_invalid(exc: ValidationError) -> str:
    """One line naming the environment variable of the first bad value of any settings class."""
    first = exc.errors()[0]
    field = ".".join(str(p) for p in first["loc"])
    shown = "" if _may_hold_secret(field) else f" (got {str(first.get('input'))[:80]!r})"
    message = f"invalid setting {_env_prefix(exc.title)}{field.upper()}: {first['msg']}{shown}"
    return message.replace("\n", " ")


def _env_prefix(model_name: str) -> str:
    pending: list[type[BaseSettings]] = [BaseSettings]
    while pending:
        cls = pending.pop()
        if cls.__name__ == model_name:
            return str(cls.model_config.get("env_prefix") or "")
        pending.extend(cls.__subclasses__())
    return "JOBPULSE_"


def _may_hold_secret(field: str) -> bool:
    return any(word in field for word in ("url", "key", "secret", "password", "token"))
