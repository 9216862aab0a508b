"""Error fingerprints: failures that differ only in ids and numbers group together."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

_UUID = re.compile(r"\b[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}\b")
# 0x-prefixed, or at least 6 hex digits mixing digits and letters (ids, hashes, addresses).
_HEX = re.compile(
    r"\b(?:0x[0-9a-fA-F]+|(?=[0-9a-fA-F]*\d)(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{6,})\b"
)
_NUMBER = re.compile(r"\d+(?:[.:]\d+)*")
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_SPACES = re.compile(r"\s+")
_ERROR_HEAD = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Warning|Timeout)\w*)")
_FRAME = re.compile(r'File "([^"]+)", line \d+, in (\S+)')


@dataclass(frozen=True)
class ErrorSignature:
    """What identifies a kind of failure."""

    error_type: str
    message: str
    top_frame: str

    @property
    def fingerprint(self) -> str:
        text = f"{self.error_type}\n{self.message}\n{self.top_frame}"
        return hashlib.sha1(text.encode()).hexdigest()[:16]


def normalise_message(message: str) -> str:
    """Replace the parts that change from one occurrence to the next."""
    message = _UUID.sub("<uuid>", message)
    message = _HEX.sub("<hex>", message)
    message = _QUOTED.sub("<str>", message)
    message = _NUMBER.sub("<n>", message)
    return _SPACES.sub(" ", message).strip()[:500]


def split_error(error: str) -> tuple[str, str]:
    """'ValueError: bad id 42' -> ('ValueError', 'bad id 42'); no type -> ('', error)."""
    first_line = error.strip().splitlines()[0] if error.strip() else ""
    head, sep, rest = first_line.partition(":")
    if sep and _ERROR_HEAD.match(head.strip()) and " " not in head.strip():
        return head.strip(), rest.strip()
    if _ERROR_HEAD.fullmatch(first_line.strip()):
        return first_line.strip(), ""
    return "", first_line.strip()


def top_frame(traceback: str | None) -> str:
    """The innermost frame of a Python traceback as 'file.py in function' ('' if none)."""
    if not traceback:
        return ""
    frames = _FRAME.findall(traceback)
    if not frames:
        return ""
    path, function = frames[-1]
    return f"{path.replace(chr(92), '/').rsplit('/', 1)[-1]} in {function}"


def signature(error: str | None, traceback: str | None = None) -> ErrorSignature | None:
    if not error and not traceback:
        return None
    error_type, message = split_error(error or "")
    if not error_type and traceback:
        error_type, message = split_error(traceback.strip().splitlines()[-1])
    return ErrorSignature(error_type, normalise_message(message), top_frame(traceback))


def fingerprint(error: str | None, traceback: str | None = None) -> str | None:
    found = signature(error, traceback)
    return found.fingerprint if found else None
