"""The plan: what importing a monitors file changes, item by item, before anything changes.

Both sides are *documents*: plain dicts in the file's own shape, normalised by the section
that owns them. Equal documents mean "unchanged"; nothing else is compared.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

Document = dict[str, Any]


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    UNCHANGED = "unchanged"
    KEEP = "keep"  # in the database, not in the file, and no --prune


_MARKS = {
    Action.CREATE: "+",
    Action.UPDATE: "~",
    Action.DELETE: "-",
    Action.UNCHANGED: "=",
    Action.KEEP: "?",
}


@dataclass(frozen=True)
class Change:
    section: str
    key: str
    action: Action
    current: Document | None = None
    desired: Document | None = None
    differences: list[str] = field(default_factory=list)

    def describe(self) -> str:
        line = f"  {_MARKS[self.action]} {self.action.value:<9} {self.section} {self.key}"
        if self.differences:
            line += ": " + ", ".join(self.differences)
        if self.action == Action.KEEP:
            line += " (not in the file; --prune deletes it)"
        return line


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def differences(
    current: Document, desired: Document, display: Callable[[Document], Document] = dict
) -> list[str]:
    """`field old → new` for every field that differs; masked values stay masked."""
    shown_current, shown_desired = display(current), display(desired)
    found = []
    for name in dict.fromkeys([*current, *desired]):
        if current.get(name) == desired.get(name):
            continue
        old, new = shown_current.get(name), shown_desired.get(name)
        found.append(
            f"{name} {_show(old)} → {_show(new)}" if old != new else f"{name} (secret) changed"
        )
    return found


def plan_section(
    section: str,
    current: dict[str, Document],
    desired: dict[str, Document],
    *,
    prune: bool,
    protected: set[str] | frozenset[str] = frozenset(),
    display: Callable[[Document], Document] = dict,
) -> list[Change]:
    changes: list[Change] = []
    for key, wanted in desired.items():
        existing = current.get(key)
        if existing is None:
            changes.append(Change(section, key, Action.CREATE, None, wanted))
        elif existing == wanted:
            changes.append(Change(section, key, Action.UNCHANGED, existing, wanted))
        else:
            found = differences(existing, wanted, display)
            changes.append(Change(section, key, Action.UPDATE, existing, wanted, found))
    for key, existing in current.items():
        if key not in desired:
            action = Action.DELETE if prune and key not in protected else Action.KEEP
            changes.append(Change(section, key, action, existing, None))
    return changes


def summary(changes: list[Change]) -> str:
    counts = {action: 0 for action in Action}
    for change in changes:
        counts[change.action] += 1
    text = (
        f"plan: {counts[Action.CREATE]} to create, {counts[Action.UPDATE]} to update, "
        f"{counts[Action.DELETE]} to delete, {counts[Action.UNCHANGED]} unchanged"
    )
    if counts[Action.KEEP]:
        text += f", {counts[Action.KEEP]} not in the file (kept)"
    return text


def has_effect(changes: list[Change]) -> bool:
    return any(c.action in (Action.CREATE, Action.UPDATE, Action.DELETE) for c in changes)
