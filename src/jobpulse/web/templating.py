"""The Jinja2 environment and page rendering, including the live fragments pages poll for."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.responses import HTMLResponse

from jobpulse.web import charts, formatting
from jobpulse.web.access import CSRF_FIELD
from jobpulse.web.icons import icon

HERE = Path(__file__).parent
TEMPLATES_DIR = HERE / "templates"
STATIC_DIR = HERE / "static"
LIVE_HEADER = "x-live-fragment"
LIVE_BLOCK = "live"

# (key, label, path under /p/{id}/) of each page in the menu; optional areas add theirs.
SECTIONS: list[tuple[str, str, str]] = [
    ("overview", "Overview", ""),
    ("checks", "Checks", "checks"),
    ("tasks", "Tasks", "tasks"),
    ("errors", "Errors", "tasks/errors"),
    ("stats", "Charts", "tasks/stats"),
    ("queues", "Queues", "queues"),
    ("workers", "Workers", "workers"),
    ("incidents", "Incidents", "incidents"),
    ("rules", "Rules", "rules"),
    ("channels", "Channels", "channels"),
    ("silences", "Silences", "silences"),
]
SETTINGS_SECTION = ("settings", "Settings", "settings")

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


def _asset_versions() -> dict[str, str]:
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()[:10]
        for path in STATIC_DIR.glob("*")
        if path.is_file()
    }


_VERSIONS = _asset_versions()


def static_url(name: str) -> str:
    """The asset's URL with its content hash, so browsers can cache it forever."""
    return f"/static/{name}?v={_VERSIONS.get(name, '0')}"


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html", "svg"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        ago=formatting.ago,
        duration=formatting.duration,
        span=formatting.span,
        iso=formatting.iso,
        clock=formatting.clock,
        pretty_json=formatting.pretty_json,
        schedule_text=formatting.schedule_text,
        duration_tone=formatting.duration_tone,
        retries_tone=formatting.retries_tone,
        queue_tone=formatting.queue_tone,
    )
    env.globals.update(
        static_url=static_url,
        check_tones=formatting.CHECK_TONES,
        task_tones=formatting.TASK_TONES,
        charts=charts,
        csrf_field=CSRF_FIELD,
        headline=formatting.headline,
        icon=icon,
        sections=SECTIONS,
        settings_section=SETTINGS_SECTION,
    )
    return env


environment = _environment()


def render(
    request: Request, name: str, context: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    """Render a page, or only its `live` block when the page's poller asks for it."""
    template = environment.get_template(name)
    values = {"request": request, "now": datetime.now(UTC), **context}
    if request.headers.get(LIVE_HEADER) and LIVE_BLOCK in template.blocks:
        body = "".join(template.blocks[LIVE_BLOCK](template.new_context(values)))
    else:
        body = template.render(values)
    return HTMLResponse(body, status_code=status_code, headers=SECURITY_HEADERS)


# Macros as a global, so live blocks rendered on their own can use them too.
environment.globals["ui"] = environment.get_template("macros.html").module
