"""A bounded directory of event batches kept while the server is unreachable.

Each batch is one JSON file, written atomically (temporary name, then rename). A sender
claims a file by renaming it before replaying it, so several processes sharing one spool
(Celery prefork children, RQ work horses) do not replay the same batch at once. When the
directory would grow past its cap, the oldest batches are dropped and counted.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger("jobpulse.sdk")

_SUFFIX = ".batch.json"
_CLAIM = ".claimed-"
_counter = itertools.count()


@dataclass(frozen=True)
class SpooledBatch:
    path: Path
    events: list[dict[str, Any]]


class Spool:
    def __init__(self, directory: str | os.PathLike[str], max_bytes: int = 50_000_000) -> None:
        self.directory = Path(directory)
        self.max_bytes = max_bytes
        self.dropped_events = 0

    def write(self, events: list[dict[str, Any]]) -> None:
        """Store one batch; drop the oldest batches if the cap would be exceeded."""
        data = json.dumps(events, separators=(",", ":")).encode()
        self.directory.mkdir(parents=True, exist_ok=True)
        self._make_room(len(data))
        name = f"{time.time_ns():020d}-{os.getpid()}-{next(_counter)}"
        temporary = self.directory / f".{name}.tmp"
        temporary.write_bytes(data)
        os.replace(temporary, self.directory / f"{name}{_SUFFIX}")

    def pending(self) -> list[Path]:
        """Unclaimed batch files (and claims left by dead processes), oldest first."""
        try:
            entries = list(os.scandir(self.directory))
        except FileNotFoundError:
            return []
        found = []
        for entry in entries:
            if entry.name.endswith(_SUFFIX) or _is_abandoned_claim(entry.name):
                found.append(Path(entry.path))
        return sorted(found, key=lambda path: path.name)

    def claim(self, path: Path) -> SpooledBatch | None:
        """Take a batch for replay; None if another process took it first or it is unreadable."""
        base = path.name.split(_CLAIM)[0]
        claimed = path.with_name(f"{base}{_CLAIM}{os.getpid()}")
        try:
            os.rename(path, claimed)
        except OSError:
            return None
        try:
            events = json.loads(claimed.read_bytes())
        except (OSError, ValueError):
            log.warning("jobpulse: dropping unreadable spool file %s", claimed)
            _unlink(claimed)
            return None
        return SpooledBatch(claimed, events)

    def release(self, batch: SpooledBatch) -> None:
        """Give a claimed batch back (its replay failed)."""
        base = batch.path.name.split(_CLAIM)[0]
        with contextlib.suppress(OSError):
            os.rename(batch.path, batch.path.with_name(base))

    def done(self, batch: SpooledBatch) -> None:
        _unlink(batch.path)

    def size(self) -> int:
        return sum(_size(path) for path in self.pending())

    def _make_room(self, incoming: int) -> None:
        files = self.pending()
        total = sum(_size(path) for path in files)
        while files and total + incoming > self.max_bytes:
            oldest = files.pop(0)
            total -= _size(oldest)
            with contextlib.suppress(OSError, ValueError):
                self.dropped_events += len(json.loads(oldest.read_bytes()))
            _unlink(oldest)
            log.warning("jobpulse: spool full, dropped the oldest batch %s", oldest.name)


def _is_abandoned_claim(name: str) -> bool:
    if _CLAIM not in name:
        return False
    pid_text = name.rsplit(_CLAIM, 1)[1]
    if not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _unlink(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()
