"""How a source is declared, in the API and in the YAML file (JOBPULSE_SOURCES_FILE).

```yaml
sources:
  - name: main-redis
    library: rq                       # celery | rq | arq | dramatiq | huey | rearq
    url: redis://:secret@10.0.0.5:6379/0
    queues: [default, emails]         # optional: discovered where the library allows
    interval: 15                      # seconds between samples
    timeout: 5                        # a sample slower than this is recorded as failed
    options: {stall_window_s: 60}
```
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from jobpulse.store.queue_sources import SourceSpec

Library = Literal["celery", "rq", "arq", "dramatiq", "huey", "rearq"]
QueueName = Annotated[str, Field(min_length=1, max_length=200)]
SCHEMES = ("redis://", "rediss://", "unix://", "amqp://", "amqps://", "pyamqp://")


Positive = Annotated[float, Field(gt=0, le=10_000_000)]


class SourceOptions(BaseModel):
    """Library details (docs/queues.md); unknown keys are refused so a typo is not ignored."""

    model_config = ConfigDict(extra="forbid")

    stall_window_s: Positive | None = None
    max_queues: int | None = Field(default=None, ge=1, le=100_000)
    max_workers: int | None = Field(default=None, ge=1, le=100_000)
    global_keyprefix: str | None = Field(default=None, max_length=200)
    priority_steps: list[Annotated[int, Field(ge=0, le=255)]] | None = Field(
        default=None, min_length=1, max_length=256
    )
    management_url: str | None = Field(default=None, max_length=2000, pattern=r"^https?://[^\s]+$")
    key_prefix: str | None = Field(default=None, max_length=200)
    worker_ttl: Positive | None = None
    namespace: str | None = Field(default=None, max_length=200)
    heartbeat_timeout_ms: Positive | None = None
    health_check_interval: Positive | None = None


class SourceDefinition(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")
    library: Library
    url: str = Field(min_length=8, max_length=2000)
    queues: list[QueueName] = Field(default_factory=list, max_length=10_000)
    interval: float = Field(default=15.0, ge=1, le=86_400, description="seconds")
    timeout: float = Field(default=5.0, gt=0, le=120, description="seconds")
    enabled: bool = True
    options: SourceOptions = Field(default_factory=SourceOptions)

    @field_validator("url")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        if not value.startswith(SCHEMES):
            raise ValueError("must be a redis://, rediss://, unix:// or amqp:// URL")
        return value

    def check_library_fits(self) -> None:
        if self.url.startswith(("amqp", "pyamqp")) and self.library != "celery":
            raise ValueError("only celery sources can read AMQP (RabbitMQ)")

    def spec(self) -> SourceSpec:
        self.check_library_fits()
        return SourceSpec(
            name=self.name,
            library=self.library,
            url=self.url,
            queues=list(self.queues),
            options=self.options.model_dump(exclude_none=True),
            interval_s=self.interval,
            timeout_s=min(self.timeout, self.interval),
            enabled=self.enabled,
        )


class SourcesFileError(Exception):
    """The sources file cannot be used; the message names the file and the problem."""


def load_sources_file(path: str | Path) -> list[SourceSpec]:
    try:
        document = yaml.safe_load(Path(path).read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise SourcesFileError(f"{path}: {exc}") from None
    items = document.get("sources", []) if isinstance(document, dict) else None
    if not isinstance(items, list):
        raise SourcesFileError(f"{path}: expected a mapping with a 'sources' list")
    specs = []
    for index, item in enumerate(items):
        try:
            specs.append(SourceDefinition.model_validate(item).spec())
        except (ValidationError, ValueError) as exc:
            raise SourcesFileError(f"{path}: sources[{index}]: {exc}") from None
    return specs
