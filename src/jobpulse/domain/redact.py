"""Redaction of secrets and size caps for what jobs report (args, kwargs, result, traceback)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

REDACTED = "[redacted]"
DEFAULT_SENSITIVE_KEYS = (
    "password",
    "passwd",
    "token",
    "secret",
    "authorization",
    "api_key",
    "apikey",
    "cookie",
    "credential",
    "private_key",
)
DEFAULT_MAX_CHARS = 10_000
_MAX_REMEMBERED_KEYS = 10_000
# Types whose JSON is at most 24 characters (ints are checked: they have no size limit).
_SCALARS = frozenset((float, bool, type(None)))
_INT_24 = 10**22


def _normal_key(key: str) -> str:
    return key.lower().replace("-", "_")


@dataclass(frozen=True)
class Redactor:
    """Replaces values under sensitive keys (substring match, case-insensitive) and caps size."""

    sensitive_keys: tuple[str, ...] = DEFAULT_SENSITIVE_KEYS
    max_chars: int = DEFAULT_MAX_CHARS
    _pattern: re.Pattern[str] = field(init=False, repr=False)
    _verdicts: dict[str, bool] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        words = [re.escape(_normal_key(k)) for k in self.sensitive_keys if k]
        # With no keys, a pattern that never matches.
        object.__setattr__(self, "_pattern", re.compile("|".join(words) or r"(?!)"))
        object.__setattr__(self, "_verdicts", {})

    def is_sensitive(self, key: str) -> bool:
        # Jobs send the same few keys over and over: remember each verdict (bounded).
        verdict = self._verdicts.get(key)
        if verdict is None:
            verdict = self._pattern.search(_normal_key(key)) is not None
            if len(self._verdicts) >= _MAX_REMEMBERED_KEYS:
                self._verdicts.clear()
            self._verdicts[key] = verdict
        return verdict

    def redact(self, value: Any) -> Any:
        """A copy of a JSON value with every value under a sensitive key replaced."""
        return self._redact_sized(value)[0]

    def _redact_sized(self, value: Any) -> tuple[Any, int]:
        """The redacted copy and an upper bound of its JSON size (saves encoding twice).

        On the ingest path for every event's args, kwargs and result: parsed JSON has exact
        types, so dispatch on type() first and handle scalars inline, without recursing.
        """
        kind = type(value)
        if kind is dict:
            return self._redact_dict(value)
        if kind is list:
            return self._redact_list(value)
        if kind is str:
            return value, len(value) * 12 + 2  # a char may need two \uXXXX escapes (astral)
        if kind is int:
            return value, _int_size(value)
        if kind in _SCALARS:
            return value, 24
        if isinstance(value, dict):
            return self._redact_dict(value)
        if isinstance(value, list | tuple):
            return self._redact_list(value)
        if isinstance(value, str):
            return value, len(value) * 12 + 2
        if isinstance(value, int):
            return value, _int_size(value)
        return value, 24 if isinstance(value, float) else 10**9

    def _redact_dict(self, value: dict[Any, Any]) -> tuple[dict[Any, Any], int]:
        found, size = {}, 2
        verdicts = self._verdicts
        for k, v in value.items():
            key = k if type(k) is str else str(k)
            sensitive = verdicts.get(key)
            if sensitive is None:
                sensitive = self.is_sensitive(key)
            size += len(key) * 12 + 4
            if sensitive:
                found[k] = REDACTED
                size += len(REDACTED) + 2
                continue
            kind = type(v)
            if kind is str:
                found[k] = v
                size += len(v) * 12 + 2
            elif kind is int:
                found[k] = v
                size += _int_size(v)
            elif kind in _SCALARS:
                found[k] = v
                size += 24
            else:
                found[k], inner = self._redact_sized(v)
                size += inner
        return found, size

    def _redact_list(self, value: list[Any] | tuple[Any, ...]) -> tuple[list[Any], int]:
        found, size = [], 2
        for v in value:
            kind = type(v)
            if kind is str:
                found.append(v)
                size += len(v) * 12 + 3
            elif kind is int:
                found.append(v)
                size += _int_size(v) + 1
            elif kind in _SCALARS:
                found.append(v)
                size += 25
            else:
                item, inner = self._redact_sized(v)
                found.append(item)
                size += inner + 1
        return found, size

    def clean(self, value: Any) -> Any:
        """Redacted, and cut to max_chars of JSON when larger (the cut is marked)."""
        if value is None:
            return None
        redacted, bound = self._redact_sized(value)
        if bound <= self.max_chars:
            return redacted
        text = json.dumps(redacted, default=str, separators=(",", ":"))
        if len(text) <= self.max_chars:
            return redacted
        return cut(text, self.max_chars)

    def clean_text(self, text: str | None) -> str | None:
        """Long text keeps its end (where a traceback's cause is), marked where cut."""
        if text is None or len(text) <= self.max_chars:
            return text
        dropped = len(text) - self.max_chars
        return f"[… {dropped} chars cut …]" + text[-self.max_chars :]


def _int_size(value: int) -> int:
    return 24 if -_INT_24 < value < _INT_24 else len(str(value))


def cut(text: str, limit: int) -> str:
    """The first `limit` characters of text followed by a marker saying how much was cut."""
    return text[:limit] + f"… [{len(text) - limit} chars cut]"


def cap(text: str | None, limit: int) -> str | None:
    """Text cut to `limit` characters (and marked) when longer."""
    return cut(text, limit) if text is not None and len(text) > limit else text
