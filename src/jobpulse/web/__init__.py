"""The dashboard: server-rendered pages under /, behind a sign-in, one project at a time."""

from __future__ import annotations

from fastapi import FastAPI, Request
from starlette.responses import RedirectResponse, Response
from starlette.staticfiles import StaticFiles

from jobpulse.web import alerts, auth, checks, project, queues, tasks
from jobpulse.web.access import LoginRequired, PageError, login_url
from jobpulse.web.templating import LIVE_HEADER, STATIC_DIR, render
from jobpulse.web.throttle import LoginThrottle


def install_dashboard(app: FastAPI) -> None:
    """Add the dashboard's pages, assets and error pages to the application."""
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.state.login_throttle = LoginThrottle()
    routers = (
        auth.router,
        project.router,
        checks.router,
        tasks.router,
        queues.router,
        alerts.router,
    )
    for router in routers:
        app.include_router(router)

    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, exc: LoginRequired) -> Response:
        if request.headers.get(LIVE_HEADER):
            return Response(status_code=401)
        return RedirectResponse(login_url(exc.next_url), status_code=303)

    @app.exception_handler(PageError)
    async def _page_error(request: Request, exc: PageError) -> Response:
        context = {"title": exc.title, "reason": exc.reason, "status": exc.status}
        return render(request, "error.html", context, exc.status)
