"""Export a project's monitors as one YAML document, and plan/apply one read back.

The file:
    version: 1
    project: default
    checks: [...]          # then rules, routes, channels, silences, sources as they exist
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import yaml
from sqlalchemy import Connection, inspect, select

from jobpulse.config_io.alert_channels import ChannelsSection, RoutesSection
from jobpulse.config_io.alerting import RulesSection, SilencesSection
from jobpulse.config_io.checks import ChecksSection
from jobpulse.config_io.plan import Action, Change, Document, plan_section
from jobpulse.config_io.probes import ProbesSection
from jobpulse.config_io.sections import FileError, Section
from jobpulse.config_io.sources import SourcesSection
from jobpulse.store.projects import DEFAULT_PROJECT, ensure_project
from jobpulse.store.rows import each
from jobpulse.store.tables import projects

if TYPE_CHECKING:
    from jobpulse.runtime import Runtime

VERSION = 1
HEADER = "# jobpulse monitors. Apply with: jobpulse import FILE [--dry-run] [--prune]\n"

_ensure_project = each(ensure_project)

# In dependency order: creates and updates run top to bottom, deletes bottom to top.
# Areas append their sections (channels before routes before rules, ...).
SECTIONS: list[Section] = [
    ChecksSection(),
    SourcesSection(),
    ChannelsSection(),
    RoutesSection(),
    ProbesSection(),
    RulesSection(),
    SilencesSection(),
]


def available_sections(conn: Connection) -> list[Section]:
    inspector = inspect(conn)
    return [s for s in SECTIONS if all(inspector.has_table(t) for t in s.tables)]


def project_id_of(conn: Connection, name: str) -> int | None:
    found = conn.execute(select(projects.c.id).where(projects.c.name == name)).scalar()
    return int(found) if found is not None else None


def export_document(conn: Connection, project: str = DEFAULT_PROJECT) -> dict[str, Any]:
    project_id = project_id_of(conn, project)
    if project_id is None:
        raise FileError([("project", f"no project named {project!r}")])
    document: dict[str, Any] = {"version": VERSION, "project": project}
    for section in available_sections(conn):
        document[section.name] = section.export(conn, project_id)
    return document


def dump(document: dict[str, Any]) -> str:
    body = yaml.safe_dump(document, sort_keys=False, allow_unicode=True, default_flow_style=False)
    return HEADER + body


@dataclass(frozen=True)
class DesiredState:
    project: str
    sections: dict[str, dict[str, Document]]  # section name → key → document


def parse(text: str, sections: list[Section]) -> DesiredState:
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise FileError([("file", f"not valid YAML: {str(exc).splitlines()[0]}")]) from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise FileError([("file", "must be a mapping with version, project and sections")])
    problems: list[tuple[str, str]] = []
    if raw.get("version", VERSION) != VERSION:
        problems.append(("version", f"this jobpulse reads version {VERSION}"))
    project = raw.get("project", DEFAULT_PROJECT)
    if not isinstance(project, str) or not project.strip():
        problems.append(("project", "must be a project name"))
    known = {section.name: section for section in sections}
    for name in raw:
        if name not in known and name not in ("version", "project"):
            problems.append((str(name), "unknown section (or not supported by this server)"))
    desired: dict[str, dict[str, Document]] = {}
    for section in sections:
        items = raw.get(section.name) or []
        if not isinstance(items, list):
            problems.append((section.name, "must be a list"))
            continue
        try:
            documents = section.parse(items, section.name)
        except FileError as exc:
            problems.extend(exc.problems)
            continue
        desired[section.name] = {section.key(doc): doc for doc in documents}
    if problems:
        raise FileError(problems)
    return DesiredState(str(project), desired)


def plan(
    conn: Connection, desired: DesiredState, sections: list[Section], *, prune: bool
) -> list[Change]:
    project_id = project_id_of(conn, desired.project)  # a new project is created on apply
    changes: list[Change] = []
    for section in sections:
        stored = section.current(conn, project_id) if project_id is not None else []
        current = {section.key(doc): doc for doc in stored}
        protected = section.protected(conn, project_id) if project_id is not None else set()
        wanted = desired.sections.get(section.name, {})
        changes.extend(
            plan_section(
                section.name,
                current,
                wanted,
                prune=prune,
                protected=protected,
                display=section.display,
            )
        )
    return changes


def apply(
    runtime: Runtime,
    project: str,
    changes: list[Change],
    sections: list[Section],
    progress: Callable[[Change], None] = lambda _: None,
) -> None:
    """Creates and updates in section order, then deletes in reverse (references first)."""
    project_id = runtime.writer.run_sync(_ensure_project, project)
    by_name = {section.name: section for section in sections}
    order = [section.name for section in sections]
    upserts = [c for c in changes if c.action in (Action.CREATE, Action.UPDATE)]
    deletes = [c for c in changes if c.action == Action.DELETE]
    upserts.sort(key=lambda c: order.index(c.section))
    deletes.sort(key=lambda c: -order.index(c.section))
    for change in [*upserts, *deletes]:
        by_name[change.section].apply(runtime, project_id, change)
        progress(change)
