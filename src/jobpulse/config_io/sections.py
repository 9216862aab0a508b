"""What a monitors file holds: one section per kind of object, each owning its documents.

A section exports rows as normalised documents, parses the file's items into documents of
the same shape (so equal means unchanged), and applies one planned change through the
group-commit writer. Areas add sections by appending to SECTIONS; a section is offered only
when its tables exist, so one file format serves every schema version.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import Connection

from jobpulse.config_io.plan import Change, Document

if TYPE_CHECKING:
    from jobpulse.runtime import Runtime


@dataclass
class FileError(Exception):
    """Everything wrong with a monitors file, each as (where, what)."""

    problems: list[tuple[str, str]] = field(default_factory=list)

    def __str__(self) -> str:
        return "\n".join(f"{where}: {what}" for where, what in self.problems)


class Section(Protocol):
    name: str  # the top-level key in the file
    tables: tuple[str, ...]

    def export(self, conn: Connection, project_id: int) -> list[Document]:
        """Every object of the project as written to the file (secrets as `${VAR}`)."""

    def current(self, conn: Connection, project_id: int) -> list[Document]:
        """The same objects to compare with the file: secrets as stored, never printed."""

    def protected(self, conn: Connection, project_id: int) -> set[str]:
        """Keys that --prune must keep (e.g. a built-in rule)."""

    def display(self, document: Document) -> Document:
        """The document as the plan may print it: secrets masked."""

    def parse(self, items: Sequence[Any], where: str) -> list[Document]:
        """The file's items, `${VAR}` resolved, shaped like `current`; FileError lists problems."""

    def key(self, document: Document) -> str:
        """What identifies the object across databases (a slug, a name)."""

    def apply(self, runtime: Runtime, project_id: int, change: Change) -> None:
        """Create, update or delete one object through the writer."""


_REFERENCE = re.compile(r"^\$\{([A-Z_][A-Z0-9_]*)\}$")


SECRET_MASK = "********"


def secret_reference(section: str, name: str, field: str) -> str:
    """`${JOBPULSE_SECRET_<SECTION>_<NAME>_<FIELD>}`: where export says a secret is read from."""
    words = "_".join((section, name, field)).upper()
    return "${JOBPULSE_SECRET_" + re.sub(r"[^A-Z0-9]+", "_", words).strip("_") + "}"


class PlainSection:
    """Defaults for sections without secrets or protected objects."""

    def current(self, conn: Connection, project_id: int) -> list[Document]:
        return self.export(conn, project_id)

    def export(self, conn: Connection, project_id: int) -> list[Document]:
        raise NotImplementedError

    def protected(self, conn: Connection, project_id: int) -> set[str]:
        return set()

    def display(self, document: Document) -> Document:
        return document


def resolve_reference(value: Any, where: str, problems: list[tuple[str, str]]) -> Any:
    """A secret given as `${ENV_VAR}` is read from the environment at import time."""
    if not isinstance(value, str):
        return value
    match = _REFERENCE.match(value.strip())
    if match is None:
        return value
    name = match.group(1)
    if name not in os.environ:
        problems.append((where, f"environment variable {name} is not set"))
        return value
    return os.environ[name]


def plain_number(value: float | int | None) -> float | int | None:
    """Whole numbers as ints, so `86400` stays `86400` through a round trip."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value
