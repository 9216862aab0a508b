"""End-to-end fixtures: a real `jobpulse serve` process and a real headless Chromium.

Chromium is Debian's package driven by Playwright (never `playwright install`). Under CI=true
a missing browser fails the tests; elsewhere they are skipped with the reason.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.server import ServerProcess, create_key, running_server

CHROMIUM = os.environ.get("JOBPULSE_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PASSWORD = "correct horse battery"


def _require_browser() -> None:
    problem = None
    if not Path(CHROMIUM).exists():
        problem = f"{CHROMIUM} is missing (apt-get install -y chromium)"
    else:
        try:
            import playwright  # noqa: F401
        except ImportError:
            problem = "the playwright package is missing (pip install -e '.[test]')"
    if problem is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{problem} (CI=true: the browser tests must run)")
    pytest.skip(problem)


@dataclass
class Dashboard:
    server: ServerProcess
    database_url: str
    owner: str
    viewer: str
    stranger: str
    api_key: str

    @property
    def url(self) -> str:
        return self.server.url


def create_user(database_url: str, email: str, *extra: str) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "jobpulse.cli",
            "users",
            "create",
            "--email",
            email,
            "--password",
            PASSWORD,
            "--database",
            database_url,
            *extra,
        ],
        check=True,
        capture_output=True,
        text=True,
    )


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    _require_browser()
    folder = tmp_path_factory.mktemp("dashboard")
    database_url = f"sqlite:///{folder / 'jobpulse.db'}"
    create_user(database_url, "owner@example.com", "--admin")
    create_user(database_url, "viewer@example.com", "--role", "read-only")
    create_user(database_url, "stranger@example.com", "--admin", "--project", "elsewhere")
    api_key = create_key(database_url)
    env = {"JOBPULSE_EVALUATOR_INTERVAL_SECONDS": "0.2"}
    with running_server(database_url, folder / "server.log", **env) as server:
        yield Dashboard(
            server,
            database_url,
            "owner@example.com",
            "viewer@example.com",
            "stranger@example.com",
            api_key,
        )


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    _require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def sign_in(browser: Any, dashboard: Dashboard, email: str, **context: Any) -> Any:
    """A new browser context signed in as `email`; returns its page."""
    options = {"viewport": {"width": 1360, "height": 900}, **context}
    page = browser.new_context(**options).new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{dashboard.url}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{dashboard.url}/p/**")
    return page


def screenshot(page: Any, name: str) -> Path:
    """Save the whole page as <name>.png and what the window shows as <name>-top.png."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True, animations="disabled")
    page.screenshot(path=str(ARTIFACTS / f"{name}-top.png"), animations="disabled")
    return path
