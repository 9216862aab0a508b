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
        """The redacted copy and an upper bound of its JSON size (saves encoding twice)."""
        kind = type(value)
        if kind is str:
            return value, len(value) * 6 + 2  # every char may need a \uXXXX escape
        if kind is int or kind is float or kind is bool or value is None:
            return value, 24
        if isinstance(value, dict):
            found, size = {}, 2
            for k, v in value.items():
                if self.is_sensitive(str(k)):
                    found[k], inner = REDACTED, len(REDACTED) + 2
                else:
                    found[k], inner = self._redact_sized(v)
                size += len(str(k)) * 6 + 4 + inner
            return found, size
        if isinstance(value, list | tuple):
            items = [self._redact_sized(v) for v in value]
            return [v for v, _ in items], 2 + sum(n + 1 for _, n in items)
        if isinstance(value, str):
            return value, len(value) * 6 + 2
        return value, 24 if isinstance(value, float | int | bool) or value is None else 10**9

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


def cut(text: str, limit: int) -> str:
    """The first `limit` characters of text followed by a marker saying how much was cut."""
    return text[:limit] + f"… [{len(text) - limit} chars cut]"


def cap(text: str | None, limit: int) -> str | None:
    """Text cut to `limit` characters (and marked) when longer."""
    return cut(text, limit) if text is not None and len(text) > limit else text
