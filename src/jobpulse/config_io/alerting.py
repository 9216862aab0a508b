"""The alerting sections' common base, and rules and silences, each keyed by name.

The built-in rule is exported with `builtin: true` and never pruned. Channels and routes
are in `alert_channels`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import Connection, RowMapping

from jobpulse.config_io.plan import Action, Change, Document
from jobpulse.config_io.sections import (
    FileError,
    PlainSection,
    plain_number,
)

if TYPE_CHECKING:
    from jobpulse.runtime import Runtime
    from jobpulse.store.alerts import ProjectTable

Problems = list[tuple[str, str]]


def validated(model: type[BaseModel], item: Any, place: str, problems: Problems) -> Any:
    try:
        return model.model_validate(item)
    except ValidationError as exc:
        for error in exc.errors():
            path = ".".join(str(part) for part in error["loc"])
            problems.append((f"{place}.{path}" if path else place, error["msg"]))
        return None


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


class TableSection(PlainSection):
    """A section over one alerting ProjectTable: list, and create/update/delete by key."""

    name = ""
    tables: tuple[str, ...] = ()

    def repository(self) -> ProjectTable:
        raise NotImplementedError

    def rows(self, conn: Connection, project_id: int) -> list[RowMapping]:
        return self.repository().list(conn, project_id)

    def document(self, conn: Connection, row: RowMapping, *, for_file: bool) -> Document:
        raise NotImplementedError

    def values(self, conn: Connection, project_id: int, document: Document) -> dict[str, Any]:
        raise NotImplementedError

    def validate(self, item: Any, place: str, problems: Problems) -> Document | None:
        raise NotImplementedError

    def key(self, document: Document) -> str:
        return str(document["name"])

    def export(self, conn: Connection, project_id: int) -> list[Document]:
        return self._documents(conn, project_id, for_file=True)

    def current(self, conn: Connection, project_id: int) -> list[Document]:
        return self._documents(conn, project_id, for_file=False)

    def _documents(self, conn: Connection, project_id: int, *, for_file: bool) -> list[Document]:
        documents = [
            self.document(conn, row, for_file=for_file) for row in self.rows(conn, project_id)
        ]
        keys = [self.key(document) for document in documents]
        duplicates = sorted({key for key in keys if keys.count(key) > 1})
        if duplicates:
            raise FileError(
                [
                    (self.name, f"several named {key!r}: give each a unique name")
                    for key in duplicates
                ]
            )
        return sorted(documents, key=self.key)

    def parse(self, items: Sequence[Any], where: str) -> list[Document]:
        problems: Problems = []
        documents: list[Document] = []
        seen: set[str] = set()
        for index, item in enumerate(items):
            place = f"{where}[{index}]"
            document = self.validate(item, place, problems)
            if document is None:
                continue
            if self.key(document) in seen:
                problems.append((place, f"{self.key(document)} appears twice"))
            seen.add(self.key(document))
            documents.append(document)
        if problems:
            raise FileError(problems)
        return documents

    def apply(self, runtime: Runtime, project_id: int, change: Change) -> None:
        from jobpulse.store.alerts import Change as RowChange

        now = datetime.now(UTC)
        repository = self.repository()
        with runtime.engine.connect() as conn:
            row_id = self._id_of(conn, project_id, change.key)
            values = (
                self.values(conn, project_id, change.desired) if change.desired is not None else {}
            )
        if change.action == Action.CREATE:
            runtime.writer.run_sync(repository.create, RowChange(project_id, now, values=values))
        elif change.action == Action.UPDATE and row_id is not None:
            runtime.writer.run_sync(repository.update, RowChange(project_id, now, row_id, values))
        elif change.action == Action.DELETE and row_id is not None:
            runtime.writer.run_sync(repository.delete, RowChange(project_id, now, row_id))

    def _id_of(self, conn: Connection, project_id: int, key: str) -> int | None:
        for row in self.rows(conn, project_id):
            if self.key(self.document(conn, row, for_file=False)) == key:
                return int(row["id"])
        return None


class RulesSection(TableSection):
    name = "rules"
    tables = ("alert_rules",)

    def repository(self) -> ProjectTable:
        from jobpulse.store.alerts import rules

        return rules

    def protected(self, conn: Connection, project_id: int) -> set[str]:
        return {str(row["name"]) for row in self.rows(conn, project_id) if row["builtin"]}

    def document(self, conn: Connection, row: RowMapping, *, for_file: bool) -> Document:
        document: Document = {"name": row["name"], "kind": row["kind"]}
        if row["builtin"]:
            document["builtin"] = True
        document["severity"] = row["severity"]
        if row["scope_kind"] != "all":
            document["scope"] = {"kind": row["scope_kind"], "value": row["scope_value"]}
        if row["params"]:
            document["params"] = dict(row["params"])
        document["window"] = plain_number(row["window_s"])
        for column, name in (("hold_fire_s", "hold_fire"), ("hold_clear_s", "hold_clear")):
            if row[column]:
                document[name] = plain_number(row[column])
        if row["repeat_s"] is not None:
            document["repeat"] = plain_number(row["repeat_s"])
        if not row["enabled"]:
            document["enabled"] = False
        return document

    def validate(self, item: Any, place: str, problems: Problems) -> Document | None:
        from jobpulse.api.alert_rules import RuleIn
        from jobpulse.domain.rules import RuleError, validate_params

        builtin = isinstance(item, dict) and bool(item.get("builtin"))
        body = {k: v for k, v in item.items() if k != "builtin"} if isinstance(item, dict) else item
        parsed = validated(RuleIn, body, place, problems)
        if parsed is None:
            return None
        try:
            params = validate_params(parsed.kind, parsed.params)
        except RuleError as exc:
            field = exc.field if exc.field.startswith("params") else f"params.{exc.field}"
            problems.append((f"{place}.{field}", exc.reason))
            return None
        row = {
            "name": parsed.name,
            "kind": parsed.kind.value,
            "builtin": builtin,
            "severity": parsed.severity.value,
            "scope_kind": parsed.scope.kind.value,
            "scope_value": parsed.scope.value,
            "params": params,
            "window_s": parsed.window,
            "hold_fire_s": parsed.hold_fire,
            "hold_clear_s": parsed.hold_clear,
            "repeat_s": parsed.repeat,
            "enabled": parsed.enabled,
        }
        return self.document(None, row, for_file=False)  # type: ignore[arg-type]

    def values(self, conn: Connection, project_id: int, document: Document) -> dict[str, Any]:
        scope = document.get("scope", {"kind": "all", "value": None})
        return {
            "name": document["name"],
            "kind": document["kind"],
            "builtin": bool(document.get("builtin", False)),
            "severity": document["severity"],
            "scope_kind": scope["kind"],
            "scope_value": scope["value"],
            "params": document.get("params", {}),
            "window_s": document["window"],
            "hold_fire_s": document.get("hold_fire", 0),
            "hold_clear_s": document.get("hold_clear", 0),
            "repeat_s": document.get("repeat"),
            "enabled": document.get("enabled", True),
        }


class SilencesSection(TableSection):
    """Silences still to come or running; ended ones are history, not configuration."""

    name = "silences"
    tables = ("alert_silences",)

    def repository(self) -> ProjectTable:
        from jobpulse.store.alerts import silences

        return silences

    def rows(self, conn: Connection, project_id: int) -> list[RowMapping]:
        now = datetime.now(UTC)
        return [row for row in super().rows(conn, project_id) if row["ends_at"] > now]

    def key(self, document: Document) -> str:
        return (
            f"{document['starts_at']}..{document['ends_at']} {document.get('comment', '')}".strip()
        )

    def document(self, conn: Connection, row: RowMapping, *, for_file: bool) -> Document:
        document: Document = {}
        if row["comment"]:
            document["comment"] = row["comment"]
        if row["matchers"]:
            document["matchers"] = dict(row["matchers"])
        document["starts_at"] = _iso(row["starts_at"])
        document["ends_at"] = _iso(row["ends_at"])
        return document

    def validate(self, item: Any, place: str, problems: Problems) -> Document | None:
        from jobpulse.api.alert_rules import SilenceIn

        if isinstance(item, dict) and "starts_at" not in item:
            problems.append((f"{place}.starts_at", "required in a file (a fixed time)"))
            return None
        parsed = validated(SilenceIn, item, place, problems)
        if parsed is None or parsed.ends_at <= datetime.now(UTC):
            return None  # an ended silence is history: nothing to apply
        row = {
            "comment": parsed.comment,
            "matchers": parsed.matchers,
            "starts_at": parsed.starts_at,
            "ends_at": parsed.ends_at,
        }
        return self.document(None, row, for_file=False)  # type: ignore[arg-type]

    def values(self, conn: Connection, project_id: int, document: Document) -> dict[str, Any]:
        return {
            "comment": document.get("comment", ""),
            "matchers": document.get("matchers", {}),
            "starts_at": datetime.fromisoformat(document["starts_at"]),
            "ends_at": datetime.fromisoformat(document["ends_at"]),
        }
