"""The `probes` section: HTTP readiness probes, keyed by name."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, RowMapping

from jobpulse.config_io.alerting import Problems, TableSection, validated
from jobpulse.config_io.plan import Document
from jobpulse.config_io.sections import plain_number

if TYPE_CHECKING:
    from jobpulse.store.alerts import ProjectTable


class ProbesSection(TableSection):
    name = "probes"
    tables = ("alert_probes",)

    def repository(self) -> ProjectTable:
        from jobpulse.store.alerts import probes

        return probes

    def document(self, conn: Connection, row: RowMapping, *, for_file: bool) -> Document:
        document: Document = {
            "name": row["name"],
            "url": row["url"],
            "interval": plain_number(row["interval_s"]),
            "timeout": plain_number(row["timeout_s"]),
        }
        if row["tags"]:
            document["tags"] = list(row["tags"])
        if not row["enabled"]:
            document["enabled"] = False
        return document

    def validate(self, item: Any, place: str, problems: Problems) -> Document | None:
        from jobpulse.api.probes import ProbeIn

        parsed = validated(ProbeIn, item, place, problems)
        if parsed is None:
            return None
        row = {
            "name": parsed.name,
            "url": parsed.url,
            "interval_s": parsed.interval,
            "timeout_s": parsed.timeout,
            "tags": parsed.tags,
            "enabled": parsed.enabled,
        }
        return self.document(None, row, for_file=False)  # type: ignore[arg-type]

    def values(self, conn: Connection, project_id: int, document: Document) -> dict[str, Any]:
        return {
            "name": document["name"],
            "url": document["url"],
            "interval_s": document["interval"],
            "timeout_s": document["timeout"],
            "tags": document.get("tags", []),
            "enabled": document.get("enabled", True),
            "next_poll_at": datetime.now(UTC),
        }
