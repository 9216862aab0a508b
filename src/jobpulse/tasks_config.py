"""Settings of the task log, from the environment (JOBPULSE_TASKS_*)."""

from __future__ import annotations

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from jobpulse.domain.redact import DEFAULT_MAX_CHARS, DEFAULT_SENSITIVE_KEYS, Redactor
from jobpulse.store.tasks_ingest import TaskIngest
from jobpulse.store.tasks_retention import task_pruner
from jobpulse.store.writer import GroupCommitWriter


class TaskLogSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="JOBPULSE_TASKS_", extra="ignore")

    # Comma-separated; a key is redacted when it contains one of these (case-insensitive).
    redact_keys: str = ",".join(DEFAULT_SENSITIVE_KEYS)
    payload_max_chars: int = Field(default=DEFAULT_MAX_CHARS, ge=100, le=10_000_000)
    retention_days: float = Field(default=30.0, gt=0)
    rollup_retention_days: float = Field(default=400.0, gt=0)
    prune_interval_seconds: float = Field(default=86400.0, gt=0)

    @field_validator("redact_keys")
    @classmethod
    def _strip(cls, value: str) -> str:
        return ",".join(k.strip() for k in value.split(",") if k.strip())

    @property
    def redact_key_list(self) -> tuple[str, ...]:
        return tuple(k for k in self.redact_keys.split(",") if k)


class TaskLog:
    """The task log's parts in one node: settings, redactor, ingest handler and pruner.

    The ingest handler is created once here: the writer batches consecutive jobs that share
    the same handler object into one call.
    """

    def __init__(self, writer: GroupCommitWriter, settings: TaskLogSettings | None = None) -> None:
        self.settings = settings or TaskLogSettings()
        self.redactor = Redactor(self.settings.redact_key_list, self.settings.payload_max_chars)
        self.ingest = TaskIngest()
        self.pruner = task_pruner(
            writer,
            self.settings.retention_days,
            self.settings.rollup_retention_days,
            self.settings.prune_interval_seconds,
        )
