"""`jobpulse doctor`'s diagnoses: each looks at one thing and says ok, warn, fail or skip.

Diagnoses never change anything (no migrations, no rows); the one write-path probe runs a
no-op batch through a private group-commit writer. Areas add theirs to DIAGNOSES.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, column, func, inspect, select, table, text
from sqlalchemy.engine import make_url

from jobpulse.config import Settings
from jobpulse.store.db import current_revisions, head_revisions, make_engine, normalise_url
from jobpulse.store.tables import api_keys, checks
from jobpulse.store.writer import GroupCommitWriter

OVERDUE_TOLERANCE = timedelta(seconds=60)
LOW_DISK_BYTES = 1 << 30
SLOW_COMMIT_SECONDS = 1.0


class Verdict(StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"


@dataclass(frozen=True)
class Finding:
    verdict: Verdict
    detail: str


@dataclass
class DoctorContext:
    settings: Settings
    engine: Engine | None = None
    reachable: bool = False
    schema_current: bool = False
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    notes: dict[str, Any] = field(default_factory=dict)

    def has_tables(self, *names: str) -> bool:
        assert self.engine is not None
        with self.engine.connect() as conn:
            inspector = inspect(conn)
            return all(inspector.has_table(name) for name in names)


Diagnosis = Callable[[DoctorContext], Finding]


def _first_line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {(str(exc).strip().splitlines() or [''])[0][:200]}"


def safe_url(url: str) -> str:
    return make_url(normalise_url(url)).render_as_string(hide_password=True)


def _sqlite_path(settings: Settings) -> Path | None:
    parsed = make_url(normalise_url(settings.database_url))
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(str(parsed.database)).expanduser()


def configuration(ctx: DoctorContext) -> Finding:
    s = ctx.settings
    return Finding(
        Verdict.OK,
        f"database {safe_url(s.database_url)}, listen {s.host}:{s.port}, "
        f"public URL {s.base_url}, log {s.log_format}/{s.log_level}",
    )


def database(ctx: DoctorContext) -> Finding:
    path = _sqlite_path(ctx.settings)
    if path is not None and not path.exists():
        return Finding(
            Verdict.FAIL,
            f"{path} does not exist; 'jobpulse db upgrade' or 'jobpulse serve' creates it",
        )
    ctx.engine = make_engine(ctx.settings.database_url, pool_size=2)
    started = time.perf_counter()
    try:
        with ctx.engine.connect() as conn:
            version = _server_version(conn)
    except Exception as exc:
        return Finding(Verdict.FAIL, f"unreachable: {_first_line(exc)}")
    ctx.reachable = True
    elapsed_ms = (time.perf_counter() - started) * 1000
    return Finding(Verdict.OK, f"reachable ({version}) in {elapsed_ms:.0f} ms")


def _server_version(conn: Connection) -> str:
    if conn.dialect.name == "sqlite":
        return "SQLite " + str(conn.execute(text("select sqlite_version()")).scalar())
    return str(conn.execute(text("select version()")).scalar()).split(" on ")[0]


def disk_space(ctx: DoctorContext) -> Finding:
    path = _sqlite_path(ctx.settings)
    if path is None:
        return Finding(Verdict.SKIP, "not a SQLite database")
    if not path.exists():
        return Finding(Verdict.SKIP, "no database file yet")
    free = shutil.disk_usage(path.parent).free
    size = path.stat().st_size
    detail = f"{free / 2**30:.1f} GiB free beside {path.name} ({size / 2**20:.1f} MiB)"
    return Finding(Verdict.WARN if free < LOW_DISK_BYTES else Verdict.OK, detail)


def migrations(ctx: DoctorContext) -> Finding:
    if not ctx.reachable or ctx.engine is None:
        return Finding(Verdict.SKIP, "database unreachable")
    current, heads = current_revisions(ctx.engine), head_revisions(ctx.engine)
    if current == heads:
        ctx.schema_current = True
        return Finding(Verdict.OK, f"current ({', '.join(sorted(heads))})")
    if not current:
        return Finding(Verdict.FAIL, "no schema yet; run 'jobpulse db upgrade'")
    unknown = current - _known_revisions()
    if unknown:
        return Finding(
            Verdict.FAIL,
            f"the database is at {sorted(unknown)}, unknown to this jobpulse: "
            "a newer version migrated it; run that version (or newer)",
        )
    return Finding(
        Verdict.FAIL,
        f"pending: at {sorted(current)}, code expects {sorted(heads)}; run 'jobpulse db upgrade'",
    )


def _known_revisions() -> set[str]:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from jobpulse.store.db import MIGRATIONS_DIR

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return {rev.revision for rev in ScriptDirectory.from_config(config).walk_revisions()}


def writer(ctx: DoctorContext) -> Finding:
    if not ctx.reachable or ctx.engine is None:
        return Finding(Verdict.SKIP, "database unreachable")
    probe = GroupCommitWriter(ctx.engine, batch_max=1)
    probe.start()
    started = time.perf_counter()
    try:
        probe.run_sync(_no_op_batch, None, timeout=30)
    except Exception as exc:
        return Finding(Verdict.FAIL, f"cannot commit: {_first_line(exc)}")
    finally:
        probe.stop()
    elapsed = time.perf_counter() - started
    verdict = Verdict.WARN if elapsed > SLOW_COMMIT_SECONDS else Verdict.OK
    return Finding(verdict, f"a write transaction commits in {elapsed * 1000:.0f} ms")


def _no_op_batch(conn: Connection, batch: Any) -> list[None]:
    conn.execute(text("select 1"))
    return [None for _ in batch]


def evaluator(ctx: DoctorContext) -> Finding:
    if not ctx.schema_current or ctx.engine is None:
        return Finding(Verdict.SKIP, "schema not current")
    limit = ctx.now - OVERDUE_TOLERANCE
    with ctx.engine.connect() as conn:
        overdue = conn.execute(
            select(func.count())
            .select_from(checks)
            .where(checks.c.next_deadline_at.is_not(None), checks.c.next_deadline_at < limit)
        ).scalar_one()
        total = conn.execute(select(func.count()).select_from(checks)).scalar_one()
    if overdue:
        return Finding(
            Verdict.WARN,
            f"{overdue} of {total} checks passed a deadline over "
            f"{OVERDUE_TOLERANCE.seconds} s ago without a flip: is a jobpulse server running?",
        )
    return Finding(Verdict.OK, f"{total} checks, none overdue")


def api_keys_present(ctx: DoctorContext) -> Finding:
    if not ctx.schema_current or ctx.engine is None:
        return Finding(Verdict.SKIP, "schema not current")
    with ctx.engine.connect() as conn:
        count = conn.execute(select(func.count()).select_from(api_keys)).scalar_one()
    if not count:
        return Finding(Verdict.WARN, "no API key yet; create one with 'jobpulse keys create'")
    return Finding(Verdict.OK, f"{count} API key(s)")


_queue_sources = table(
    "queue_sources",
    column("name"),
    column("enabled"),
    column("last_error"),
    column("last_sample_at"),
    column("interval_s"),
)


def sources(ctx: DoctorContext) -> Finding:
    if not ctx.schema_current or ctx.engine is None or not ctx.has_tables("queue_sources"):
        return Finding(Verdict.SKIP, "no queue sources in this schema")
    now = ctx.now.timestamp()
    problems: list[str] = []
    enabled = 0
    with ctx.engine.connect() as conn:
        for name, is_enabled, error, last_sample, interval in conn.execute(
            select(_queue_sources).order_by(_queue_sources.c.name)
        ):
            if not is_enabled:
                continue
            enabled += 1
            if error:
                problems.append(f"{name}: {str(error).splitlines()[0][:120]}")
            elif last_sample is not None and now - float(last_sample) > 3 * float(interval or 60):
                problems.append(f"{name}: no sample for {now - float(last_sample):.0f} s")
    if problems:
        return Finding(Verdict.WARN, "; ".join(problems))
    return Finding(Verdict.OK, f"{enabled} enabled source(s) sampling")


def channels(ctx: DoctorContext) -> Finding:
    if not ctx.schema_current or ctx.engine is None or not ctx.has_tables("alert_channels"):
        return Finding(Verdict.SKIP, "no notification channels in this schema")
    from jobpulse.notify.base import ChannelConfigError
    from jobpulse.notify.registry import validate_config
    from jobpulse.store.alerts_tables import alert_channels

    problems: list[str] = []
    enabled = 0
    with ctx.engine.connect() as conn:
        rows = conn.execute(select(alert_channels).order_by(alert_channels.c.name)).mappings()
        for row in rows:
            if not row["enabled"]:
                continue
            enabled += 1
            try:
                validate_config(row["kind"], row["config"] or {})
            except ChannelConfigError as exc:
                problems.append(f"{row['name']} ({row['kind']}): {exc.field}: {exc.reason}")
    if problems:
        return Finding(Verdict.FAIL, "; ".join(problems))
    if not enabled:
        return Finding(Verdict.WARN, "no enabled channel: incidents will notify nobody")
    return Finding(Verdict.OK, f"{enabled} enabled channel(s), configuration complete")


_alert_outbox = table("alert_outbox", column("status"), column("created_at"), column("last_error"))
STUCK_NOTICE_SECONDS = 600.0


def outbox(ctx: DoctorContext) -> Finding:
    if not ctx.schema_current or ctx.engine is None or not ctx.has_tables("alert_outbox"):
        return Finding(Verdict.SKIP, "no notification outbox in this schema")
    waiting = _alert_outbox.c.status.in_(("pending", "sending"))
    with ctx.engine.connect() as conn:
        count, oldest = conn.execute(
            select(func.count(), func.min(_alert_outbox.c.created_at)).where(waiting)
        ).one()
        failed = conn.execute(
            select(func.count()).where(_alert_outbox.c.status == "failed")
        ).scalar_one()
    age = ctx.now.timestamp() - float(oldest) if oldest is not None else 0.0
    detail = f"{count} notice(s) waiting, {failed} given up"
    if age > STUCK_NOTICE_SECONDS:
        return Finding(
            Verdict.WARN,
            f"{detail}; the oldest has waited {age / 60:.0f} min: is a notifier running?",
        )
    return Finding(Verdict.WARN if failed else Verdict.OK, detail)


# (name, diagnosis) in order; later ones read what earlier ones found (ctx).
DIAGNOSES: list[tuple[str, Diagnosis]] = [
    ("configuration", configuration),
    ("database", database),
    ("disk space", disk_space),
    ("migrations", migrations),
    ("writer", writer),
    ("evaluator", evaluator),
    ("api keys", api_keys_present),
    ("sources", sources),
    ("channels", channels),
    ("outbox", outbox),
]


def run_diagnoses(ctx: DoctorContext, report: Callable[[str, Finding], None]) -> dict[Verdict, int]:
    counts = {verdict: 0 for verdict in Verdict}
    try:
        for name, diagnosis in DIAGNOSES:
            try:
                finding = diagnosis(ctx)
            except Exception as exc:
                finding = Finding(Verdict.FAIL, f"the check itself failed: {_first_line(exc)}")
            counts[finding.verdict] += 1
            report(name, finding)
    finally:
        if ctx.engine is not None:
            ctx.engine.dispose()
    return counts
