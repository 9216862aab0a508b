"""The `sources` section: queue sources keyed by name; a URL with credentials is a secret."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from pydantic import ValidationError
from sqlalchemy import Connection, RowMapping

from jobpulse.config_io.plan import Action, Change, Document
from jobpulse.config_io.sections import (
    SECRET_MASK,
    FileError,
    PlainSection,
    plain_number,
    resolve_reference,
    secret_reference,
)

if TYPE_CHECKING:
    from jobpulse.runtime import Runtime


def _has_credentials(url: str) -> bool:
    try:
        return "@" in urlsplit(url).netloc
    except ValueError:
        return True  # unparseable: treat as secret


def _document(row: RowMapping | dict[str, Any], url: str) -> Document:
    document: Document = {"name": row["name"], "library": row["library"], "url": url}
    if row["queues"]:
        document["queues"] = list(row["queues"])
    document["interval"] = plain_number(row["interval_s"])
    document["timeout"] = plain_number(row["timeout_s"])
    if not row["enabled"]:
        document["enabled"] = False
    if row["options"]:
        document["options"] = dict(row["options"])
    return document


class SourcesSection(PlainSection):
    name = "sources"
    tables = ("queue_sources",)

    def key(self, document: Document) -> str:
        return str(document["name"])

    def export(self, conn: Connection, project_id: int) -> list[Document]:
        from jobpulse.store.queue_sources import list_sources

        documents = []
        for row in list_sources(conn, project_id):
            url = row["url"]
            if _has_credentials(url):
                url = secret_reference("source", row["name"], "url")
            documents.append(_document(row, url))
        return documents

    def current(self, conn: Connection, project_id: int) -> list[Document]:
        from jobpulse.store.queue_sources import list_sources

        return [_document(row, row["url"]) for row in list_sources(conn, project_id)]

    def display(self, document: Document) -> Document:
        url = str(document.get("url", ""))
        return {**document, "url": SECRET_MASK} if _has_credentials(url) else document

    def parse(self, items: Sequence[Any], where: str) -> list[Document]:
        from jobpulse.collectors.definitions import SourceDefinition

        problems: list[tuple[str, str]] = []
        documents: list[Document] = []
        seen: set[str] = set()
        for index, item in enumerate(items):
            place = f"{where}[{index}]"
            if isinstance(item, dict) and "url" in item:
                missing = len(problems)
                item = {**item, "url": resolve_reference(item["url"], f"{place}.url", problems)}
                if len(problems) > missing:
                    continue
            try:
                definition = SourceDefinition.model_validate(item)
                spec = definition.spec()
            except ValidationError as exc:
                for error in exc.errors():
                    path = ".".join(str(part) for part in error["loc"])
                    problems.append((f"{place}.{path}" if path else place, error["msg"]))
                continue
            except ValueError as exc:
                problems.append((f"{place}.library", str(exc)))
                continue
            if spec.name in seen:
                problems.append((place, f"{spec.name} appears twice"))
            seen.add(spec.name)
            row = {
                "name": spec.name,
                "library": spec.library,
                "queues": spec.queues,
                "interval_s": spec.interval_s,
                "timeout_s": spec.timeout_s,
                "enabled": spec.enabled,
                "options": spec.options,
            }
            documents.append(_document(row, spec.url))
        if problems:
            raise FileError(problems)
        return documents

    def apply(self, runtime: Runtime, project_id: int, change: Change) -> None:
        from jobpulse.store import queue_sources as repo

        now = datetime.now(UTC)
        if change.action == Action.DELETE:
            runtime.writer.run_sync(repo.delete_source, (project_id, change.key))
            return
        assert change.desired is not None
        desired = change.desired
        spec = repo.SourceSpec(
            name=desired["name"],
            library=desired["library"],
            url=desired["url"],
            queues=list(desired.get("queues", [])),
            options=dict(desired.get("options", {})),
            interval_s=float(desired["interval"]),
            timeout_s=float(desired["timeout"]),
            enabled=bool(desired.get("enabled", True)),
        )
        runtime.writer.run_sync(repo.upsert_source, (project_id, spec, now))
