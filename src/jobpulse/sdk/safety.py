"""SDK code never raises into the job: every hook body goes through `guarded`."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, TypeVar

log = logging.getLogger("jobpulse.sdk")

F = TypeVar("F", bound=Callable[..., Any])

_MAX_DEPTH = 3
_MAX_ITEMS = 20
_MAX_TEXT = 1000
_SCALARS = frozenset({type(None), bool, int, float})


def guarded(hook: F) -> F:
    """Run `hook`; an exception it raises is logged and swallowed (the result is None)."""

    @functools.wraps(hook)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return hook(*args, **kwargs)
        except Exception:
            log.exception("jobpulse: error in SDK hook %s (ignored)", hook.__qualname__)
            return None

    return wrapper  # type: ignore[return-value]


def jsonable(value: Any, depth: int = 0) -> Any:
    """A small, JSON-safe copy of `value`: containers cut short, other objects as repr."""
    kind = type(value)
    if kind in _SCALARS:
        return value
    if kind is str:
        return value if len(value) <= _MAX_TEXT else value[:_MAX_TEXT] + "…"
    if depth >= _MAX_DEPTH:
        return _short_repr(value)
    if isinstance(value, dict):
        if len(value) <= _MAX_ITEMS and all(type(item) in _SCALARS for item in value.values()):
            return {str(key): item for key, item in value.items()}
        items = list(value.items())[:_MAX_ITEMS]
        return {str(key): jsonable(item, depth + 1) for key, item in items}
    if isinstance(value, list | tuple | set | frozenset):
        if len(value) <= _MAX_ITEMS and all(type(item) in _SCALARS for item in value):
            return list(value)
        return [jsonable(item, depth + 1) for item in list(value)[:_MAX_ITEMS]]
    for plain in (bool, int, float, str):  # subclasses such as IntEnum and StrEnum
        if isinstance(value, plain):
            return jsonable(plain(value), depth)
    return _short_repr(value)


def _short_repr(value: Any) -> str:
    try:
        text = repr(value)
    except Exception:
        text = f"<{type(value).__name__}>"
    return text if len(text) <= _MAX_TEXT else text[:_MAX_TEXT] + "…"
