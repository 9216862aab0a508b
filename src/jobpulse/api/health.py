"""/healthz (the process answers) and /readyz (database, schema, writer, evaluator and the
other background loops are fine)."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool

from jobpulse.api.deps import runtime_of
from jobpulse.engine.loop import PeriodicLoop
from jobpulse.runtime import Runtime
from jobpulse.store.db import current_revisions, head_revisions

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


def _readiness_problem(runtime: Runtime) -> str | None:
    try:
        with runtime.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        current, head = current_revisions(runtime.engine), head_revisions(runtime.engine)
    except Exception as exc:
        return f"database unreachable: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
    if current != head:
        return (
            f"schema not current: at {sorted(current)}, code expects {sorted(head)}; "
            "run 'jobpulse db upgrade'"
        )
    if runtime.started and not runtime.writer.alive():
        return "writer thread not running: writes cannot be committed"
    if runtime.started and not runtime.writer.checkpoints_alive():
        return "SQLite WAL checkpoints not running: the WAL file would grow without end"
    max_silence = max(5.0, runtime.settings.evaluator_interval_seconds * 10)
    if not runtime.evaluator.alive(max_silence):
        error = runtime.evaluator.last_error
        return "evaluator loop not running" + (f": {error}" if error else "")
    for service in runtime.services:
        loop = getattr(service, "loop", None)
        if isinstance(loop, PeriodicLoop) and (problem := loop.problem()):
            return problem
    return None


@router.get("/readyz")
async def readyz(runtime: Runtime = Depends(runtime_of)) -> JSONResponse:
    problem = await run_in_threadpool(_readiness_problem, runtime)
    if problem:
        return JSONResponse({"status": "unavailable", "reason": problem}, status_code=503)
    return JSONResponse({"status": "ready"})
