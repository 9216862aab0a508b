"""The `checks` section: keyed by slug; a check without one by its uuid (its ping URL)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import Connection, RowMapping, select

from jobpulse.config_io.plan import Action, Change, Document
from jobpulse.config_io.sections import FileError, PlainSection, plain_number
from jobpulse.domain.schedule import Schedule, ScheduleError, ScheduleKind
from jobpulse.store import checks as repo
from jobpulse.store.tables import checks

if TYPE_CHECKING:
    from jobpulse.runtime import Runtime

Slug = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")]
Tag = Annotated[str, Field(min_length=1, max_length=50, pattern=r"^[A-Za-z0-9_.:-]+$")]
_UUID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
Uuid = Annotated[str, Field(pattern=_UUID_PATTERN)]
UUID_KEY = "uuid:"


class CheckItem(BaseModel):
    """One check as written in the file; defaults as in the API."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    slug: Slug | None = None
    uuid: Uuid | None = None
    tags: list[Tag] = Field(default_factory=list, max_length=50)
    description: str = Field(default="", max_length=10_000)
    kind: Literal["simple", "cron"] = "simple"
    period: float = 86400
    grace: float = 3600
    schedule: str | None = Field(default=None, max_length=200)
    tz: str = Field(default="UTC", max_length=64)
    max_runtime: float | None = None


def _document(
    *,
    name: str,
    slug: str | None,
    uuid: str | None,
    tags: list[str],
    description: str,
    kind: str,
    period: float,
    grace: float,
    schedule: str | None,
    tz: str,
    max_runtime: float | None,
) -> Document:
    """The one normalised shape: what matters for the kind, defaults left out."""
    document: Document = {"slug": slug} if slug else {"uuid": uuid}
    document["name"] = name
    document["kind"] = kind
    if kind == ScheduleKind.CRON.value:
        document["schedule"] = schedule
        if tz != "UTC":
            document["tz"] = tz
    else:
        document["period"] = plain_number(period)
    document["grace"] = plain_number(grace)
    if max_runtime is not None:
        document["max_runtime"] = plain_number(max_runtime)
    if tags:
        document["tags"] = list(tags)
    if description:
        document["description"] = description
    return document


def _from_row(row: RowMapping) -> Document:
    return _document(
        name=row["name"],
        slug=row["slug"],
        uuid=row["uuid"],
        tags=list(row["tags"] or []),
        description=row["description"] or "",
        kind=row["kind"],
        period=row["period_s"],
        grace=row["grace_s"],
        schedule=row["cron"],
        tz=row["tz"] or "UTC",
        max_runtime=row["max_runtime_s"],
    )


def _schedule_of(document: Document) -> Schedule:
    max_runtime = document.get("max_runtime")
    return Schedule(
        kind=ScheduleKind(document["kind"]),
        period=timedelta(seconds=document.get("period", 86400)),
        grace=timedelta(seconds=document["grace"]),
        cron=document.get("schedule"),
        tz=document.get("tz", "UTC"),
        max_runtime=timedelta(seconds=max_runtime) if max_runtime is not None else None,
    )


def _api_fields(document: Document) -> dict[str, Any]:
    """Every settable field, defaults filled in: an update leaves nothing stale behind."""
    return {
        "name": document["name"],
        "slug": document.get("slug"),
        "tags": document.get("tags", []),
        "description": document.get("description", ""),
        "kind": document["kind"],
        "period": document.get("period", 86400),
        "grace": document["grace"],
        "schedule": document.get("schedule"),
        "tz": document.get("tz", "UTC"),
        "max_runtime": document.get("max_runtime"),
    }


class ChecksSection(PlainSection):
    name = "checks"
    tables = ("checks",)

    def export(self, conn: Connection, project_id: int) -> list[Document]:
        rows = conn.execute(select(checks).where(checks.c.project_id == project_id)).mappings()
        return sorted((_from_row(row) for row in rows), key=self.key)

    def key(self, document: Document) -> str:
        return str(document["slug"]) if document.get("slug") else UUID_KEY + str(document["uuid"])

    def parse(self, items: Sequence[Any], where: str) -> list[Document]:
        problems: list[tuple[str, str]] = []
        documents: list[Document] = []
        seen: set[str] = set()
        for index, item in enumerate(items):
            place = f"{where}[{index}]"
            document = self._parse_one(item, place, problems)
            if document is None:
                continue
            key = self.key(document)
            if key in seen:
                problems.append((place, f"{key} appears twice"))
            seen.add(key)
            documents.append(document)
        if problems:
            raise FileError(problems)
        return documents

    @staticmethod
    def _parse_one(item: Any, place: str, problems: list[tuple[str, str]]) -> Document | None:
        try:
            parsed = CheckItem.model_validate(item)
        except ValidationError as exc:
            for error in exc.errors():
                path = ".".join(str(part) for part in error["loc"])
                problems.append((f"{place}.{path}" if path else place, error["msg"]))
            return None
        if not parsed.slug and not parsed.uuid:
            problems.append((place, "a check needs a slug (or, without one, its uuid)"))
            return None
        values = parsed.model_dump()
        if parsed.slug:
            values["uuid"] = None  # a slug is the key; a uuid beside it is ignored
        document = _document(**values)
        try:
            _schedule_of(document)
        except ScheduleError as exc:
            problems.append((f"{place}.{exc.field}", exc.reason))
            return None
        return document

    def apply(self, runtime: Runtime, project_id: int, change: Change) -> None:
        now = datetime.now(UTC)
        if change.action == Action.CREATE:
            assert change.desired is not None
            fields = _api_fields(change.desired)
            spec = repo.CheckSpec(
                name=fields["name"],
                schedule=_schedule_of(change.desired),
                slug=fields["slug"],
                tags=fields["tags"],
                description=fields["description"],
                uuid=change.desired.get("uuid"),
            )
            runtime.writer.run_sync(repo.create_check, (project_id, spec, now))
            return
        check_uuid = self._uuid_of(runtime, project_id, change.key)
        if check_uuid is None:
            return
        if change.action == Action.UPDATE:
            assert change.desired is not None
            update = repo.CheckChange(
                project_id, check_uuid, _api_fields(change.desired), now, runtime.cron_tolerance
            )
            runtime.writer.run_sync(repo.update_check, update)
        elif change.action == Action.DELETE:
            runtime.writer.run_sync(repo.delete_check, (project_id, check_uuid))

    @staticmethod
    def _uuid_of(runtime: Runtime, project_id: int, key: str) -> str | None:
        if key.startswith(UUID_KEY):
            return key[len(UUID_KEY) :]
        with runtime.engine.connect() as conn:
            found = conn.execute(
                select(checks.c.uuid).where(checks.c.project_id == project_id, checks.c.slug == key)
            ).scalar_one_or_none()
        return str(found) if found is not None else None
