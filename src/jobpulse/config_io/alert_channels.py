"""The channels and routes sections: channels' secret config values are written as `${VAR}`
references; routes name their channels."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, RowMapping

from jobpulse.config_io.alerting import Problems, TableSection, validated
from jobpulse.config_io.plan import Document
from jobpulse.config_io.sections import SECRET_MASK, resolve_reference, secret_reference

if TYPE_CHECKING:
    from jobpulse.store.alerts import ProjectTable


def _as_references(channel: str, key: str, value: Any) -> Any:
    """A secret config value as `${VAR}`; a secret mapping (headers) value by value."""
    if value in (None, "", {}):
        return value
    if isinstance(value, dict):
        return {k: secret_reference("channel", channel, f"{key}_{k}") for k in value}
    return secret_reference("channel", channel, key)


def _resolved(value: Any, place: str, problems: Problems) -> Any:
    if isinstance(value, dict):
        return {k: resolve_reference(v, f"{place}.{k}", problems) for k, v in value.items()}
    return resolve_reference(value, place, problems)


class ChannelsSection(TableSection):
    name = "channels"
    tables = ("alert_channels",)

    def repository(self) -> ProjectTable:
        from jobpulse.store.alerts import channels

        return channels

    def document(self, conn: Connection, row: RowMapping, *, for_file: bool) -> Document:
        from jobpulse.notify.registry import secret_fields

        config = dict(row["config"] or {})
        if for_file:
            secrets = secret_fields(row["kind"])
            config = {
                key: _as_references(row["name"], key, value) if key in secrets else value
                for key, value in config.items()
            }
        document: Document = {"name": row["name"], "kind": row["kind"], "config": config}
        if not row["enabled"]:
            document["enabled"] = False
        return document

    def display(self, document: Document) -> Document:
        from jobpulse.notify.registry import masked_config

        try:
            return {**document, "config": masked_config(document["kind"], document["config"])}
        except ValueError:
            return {**document, "config": SECRET_MASK}

    def validate(self, item: Any, place: str, problems: Problems) -> Document | None:
        from jobpulse.api.channels import ChannelIn
        from jobpulse.notify.base import ChannelConfigError
        from jobpulse.notify.registry import validate_config

        parsed = validated(ChannelIn, item, place, problems)
        if parsed is None:
            return None
        missing = len(problems)
        config = {
            key: _resolved(value, f"{place}.config.{key}", problems)
            for key, value in parsed.config.items()
        }
        if len(problems) > missing:
            return None
        try:
            validate_config(parsed.kind, config)
        except ChannelConfigError as exc:
            field = "kind" if exc.field == "kind" else f"config.{exc.field}"
            problems.append((f"{place}.{field}", exc.reason))
            return None
        document: Document = {"name": parsed.name, "kind": parsed.kind, "config": config}
        if not parsed.enabled:
            document["enabled"] = False
        return document

    def values(self, conn: Connection, project_id: int, document: Document) -> dict[str, Any]:
        return {
            "name": document["name"],
            "kind": document["kind"],
            "config": document["config"],
            "enabled": document.get("enabled", True),
        }


class RoutesSection(TableSection):
    name = "routes"
    tables = ("alert_routes", "alert_channels")

    def repository(self) -> ProjectTable:
        from jobpulse.store.alerts import routes

        return routes

    @staticmethod
    def _channel_names(conn: Connection, project_id: int) -> dict[int, str]:
        from jobpulse.store.alerts import channels

        return {int(row["id"]): str(row["name"]) for row in channels.list(conn, project_id)}

    def document(self, conn: Connection, row: RowMapping, *, for_file: bool) -> Document:
        names = self._channel_names(conn, row["project_id"])
        document: Document = {"name": row["name"] or f"route-{row['id']}"}
        if row["severities"]:
            document["severities"] = list(row["severities"])
        if row["matchers"]:
            document["matchers"] = dict(row["matchers"])
        document["channels"] = [names.get(int(i), f"#{i}") for i in row["channel_ids"]]
        if row["is_default"]:
            document["is_default"] = True
        return document

    def validate(self, item: Any, place: str, problems: Problems) -> Document | None:
        from jobpulse.api.alert_rules import RouteIn

        if not isinstance(item, dict):
            problems.append((place, "must be a mapping"))
            return None
        channels = item.get("channels")
        if not isinstance(channels, list) or not channels or not item.get("name"):
            problems.append((place, "a route needs a name and a list of channel names"))
            return None
        probe = {k: v for k, v in item.items() if k != "channels"} | {"channel_ids": [0]}
        parsed = validated(RouteIn, probe, place, problems)
        if parsed is None:
            return None
        document: Document = {"name": parsed.name}
        if parsed.severities:
            document["severities"] = [severity.value for severity in parsed.severities]
        if parsed.matchers:
            document["matchers"] = dict(parsed.matchers)
        document["channels"] = [str(name) for name in channels]
        if parsed.is_default:
            document["is_default"] = True
        return document

    def values(self, conn: Connection, project_id: int, document: Document) -> dict[str, Any]:
        ids = {
            name: channel_id for channel_id, name in self._channel_names(conn, project_id).items()
        }
        unknown = [name for name in document["channels"] if name not in ids]
        if unknown:
            raise ValueError(f"route {document['name']}: no channel named {unknown[0]!r}")
        return {
            "name": document["name"],
            "severities": document.get("severities", []),
            "matchers": document.get("matchers", {}),
            "channel_ids": [ids[name] for name in document["channels"]],
            "is_default": document.get("is_default", False),
        }
