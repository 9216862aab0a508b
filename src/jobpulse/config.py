"""Settings from the environment (JOBPULSE_*) and command-line flags."""

from __future__ import annotations

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

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
    writer_batch_max: int = Field(default=2000, ge=1, le=100_000)
    log_level: str = "info"

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
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"invalid setting JOBPULSE_{field.upper()}: {first['msg']}") from None
