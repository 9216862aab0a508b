"""One error shape for every 4xx: {"error": short reason, "detail": specifics}."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from jobpulse.domain.schedule import ScheduleError
from jobpulse.store.checks import SlugTaken


class ApiError(HTTPException):
    def __init__(self, status_code: int, error: str, detail: Any = None) -> None:
        super().__init__(status_code, detail)
        self.error = error


def not_found(what: str = "not found") -> ApiError:
    return ApiError(404, "not found", what)


def field_error(field: str, reason: str) -> ApiError:
    return ApiError(422, "validation failed", [{"field": field, "reason": reason}])


def error_response(status: int, error: str, detail: Any = None) -> JSONResponse:
    return JSONResponse({"error": error, "detail": detail}, status_code=status)


def _field_name(location: tuple[Any, ...]) -> str:
    parts = [str(p) for p in location if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status_code, exc.error, exc.detail)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        reason = {404: "not found", 405: "method not allowed", 401: "unauthorized"}
        return error_response(exc.status_code, reason.get(exc.status_code, "error"), exc.detail)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        detail = [
            {"field": _field_name(tuple(err.get("loc", ()))), "reason": err.get("msg", "invalid")}
            for err in exc.errors()
        ]
        return error_response(422, "validation failed", detail)

    @app.exception_handler(ScheduleError)
    async def _schedule(_: Request, exc: ScheduleError) -> JSONResponse:
        return error_response(
            422, "validation failed", [{"field": exc.field, "reason": exc.reason}]
        )

    @app.exception_handler(SlugTaken)
    async def _slug(_: Request, exc: SlugTaken) -> JSONResponse:
        return error_response(409, "conflict", [{"field": exc.field, "reason": exc.reason}])
