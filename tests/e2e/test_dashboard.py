"""The dashboard in a real headless Chromium against a real `jobpulse serve` process."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Dashboard, screenshot, sign_in

pytestmark = pytest.mark.timeout(180)


def api(dashboard: Dashboard) -> httpx.Client:
    headers = {"Authorization": f"Bearer {dashboard.api_key}"}
    return httpx.Client(base_url=dashboard.url, headers=headers, timeout=10)


def seed_checks(dashboard: Dashboard) -> None:
    """A few checks in different states, so the pages look like a real day."""
    with api(dashboard) as client:
        specs = [
            {
                "name": "Invoice export",
                "slug": "invoice-export",
                "tags": ["billing", "prod"],
                "kind": "cron",
                "schedule": "*/15 * * * *",
                "tz": "Europe/Berlin",
                "grace": 300,
            },
            {
                "name": "Database backup",
                "slug": "db-backup",
                "tags": ["prod", "db"],
                "period": 86400,
                "grace": 3600,
            },
            {
                "name": "Search index rebuild",
                "slug": "search-index",
                "tags": ["search"],
                "period": 1,
                "grace": 1,
            },
            {
                "name": "Newsletter send",
                "slug": "newsletter",
                "tags": ["marketing"],
                "period": 3600,
                "grace": 600,
            },
        ]
        created = [client.post("/api/v1/checks", json=spec).json() for spec in specs]
        for check in created[:2]:
            for run, exit_status in enumerate([0, 0, 1, 0, 0, 0]):
                url = f"/ping/{check['uuid']}"
                client.get(f"{url}/start", params={"rid": f"r{run}"})
                client.post(
                    f"{url}/{exit_status}",
                    params={"rid": f"r{run}"},
                    content=f"run {run}: processed {120 + run * 7} rows\n".encode(),
                )
        client.get(f"/ping/{created[2]['uuid']}")  # then silence: it goes late, then down


TRACEBACK = """Traceback (most recent call last):
  File "/srv/app/billing/tasks.py", line 42, in charge_card
    receipt = gateway.charge(customer, amount)
  File "/srv/app/billing/gateway.py", line 118, in charge
    raise CardDeclined(f"card declined for customer {customer}")
billing.gateway.CardDeclined: card declined for customer 1042"""


def seed_tasks(dashboard: Dashboard) -> None:
    """A day of task runs over three queues, some failing, through the events API."""
    now = datetime.now(UTC)
    events: list[dict[str, Any]] = []
    tasks = [
        ("charge_card", "billing", 0.4),
        ("send_receipt", "emails", 1.8),
        ("rebuild_search_index", "search", 12.0),
        ("resize_image", "media", 45.0),
    ]
    for i in range(96):
        name, queue, seconds = tasks[i % len(tasks)]
        started = now - timedelta(minutes=15 * i + 3)
        common = {
            "job_id": f"job-{i:04d}",
            "task_name": name,
            "queue": queue,
            "worker_id": f"worker-{i % 3 + 1}",
        }
        events.append(
            {
                **common,
                "type": "enqueued",
                "ts": (started - timedelta(seconds=2)).isoformat(),
                "args": [1000 + i],
                "kwargs": {"currency": "EUR", "amount": 12.5 + i},
            }
        )
        events.append({**common, "type": "started", "ts": started.isoformat()})
        finished = (started + timedelta(seconds=seconds * (1 + i % 3 / 4))).isoformat()
        if name == "charge_card" and i % 8 == 0:
            events.append(
                {
                    **common,
                    "type": "retried",
                    "ts": finished,
                    "attempt": 1,
                    "error": "TimeoutError: gateway timed out",
                    "retries": 1,
                }
            )
            events.append({**common, "type": "started", "attempt": 2, "ts": finished})
            events.append(
                {
                    **common,
                    "type": "failed",
                    "attempt": 2,
                    "ts": (datetime.fromisoformat(finished) + timedelta(seconds=0.7)).isoformat(),
                    "error": "billing.gateway.CardDeclined: card declined for customer 1042",
                    "traceback": TRACEBACK,
                    "retries": 1,
                }
            )
        else:
            events.append(
                {
                    **common,
                    "type": "succeeded",
                    "ts": finished,
                    "result": {"status": "ok", "items": i},
                }
            )
    beats = [
        {
            "worker_id": f"worker-{n}",
            "hostname": f"app-{n}.internal",
            "pid": 4100 + n,
            "queues": ["billing", "emails"] if n < 3 else ["media", "search"],
            "current_job": f"job-{n:04d}" if n % 2 else None,
            "library": "celery",
            "interval": 30,
            "state": "online" if n < 4 else "offline",
        }
        for n in range(1, 5)
    ]
    with api(dashboard) as client:
        answer = client.post("/api/v1/events", json=events)
        assert answer.status_code == 202, answer.text
        assert client.post("/api/v1/workers/heartbeat", json=beats).status_code == 202


def test_an_owner_creates_a_check_sees_its_pings_live_and_pauses_it(
    dashboard: Dashboard, browser: Any
) -> None:
    seed_checks(dashboard)
    page = sign_in(browser, dashboard, dashboard.owner)
    screenshot(page, "overview")

    page.click("#nav >> text=Checks")
    page.click("text=New check")
    page.fill("input[name=name]", "Nightly report")
    page.fill("input[name=slug]", "nightly-report")
    page.fill("input[name=tags]", "reports prod")
    page.check("input[name=kind][value=cron]")
    page.fill("input[name=schedule]", "0 3 * * *")
    page.fill("input[name=tz]", "Europe/Paris")
    page.locator("[data-upcoming] li", has_text="03:00:00 CET").first.wait_for()
    screenshot(page, "check-new")
    page.click("button:has-text('Create check')")
    page.wait_for_url(re.compile(r".*/checks/[0-9a-f-]{36}$"))
    check_uuid = page.url.rsplit("/", 1)[1]
    assert "CET" in page.inner_text("[data-upcoming]")

    page.goto(page.url.rsplit("/", 1)[0])
    row = page.locator(f"tr[data-check='{check_uuid}']")
    assert row.locator(".badge").inner_text().strip().lower() == "new"
    page.evaluate("window.stillTheSamePage = true")
    with httpx.Client(base_url=dashboard.url) as client:
        assert client.get(f"/ping/{check_uuid}/start").status_code == 200
        assert client.post(f"/ping/{check_uuid}", content=b"report: 42 pages").status_code == 200
    row.locator(".badge", has_text="up").wait_for()
    assert page.evaluate("window.stillTheSamePage") is True
    screenshot(page, "checks")

    row.locator("a.strong").click()
    page.wait_for_selector("text=report: 42 pages")
    screenshot(page, "check-detail")
    page.fill("#schedule input[name=schedule]", "30 4 * * 1")
    # Wait for the new preview itself: the old one may list a Monday too (at 03:00).
    page.locator("[data-upcoming] li", has_text="04:30:00 CET").first.wait_for()
    assert all(line.startswith("Mon ") for line in page.inner_text("[data-upcoming]").splitlines())
    page.click("button:has-text('Pause')")
    page.locator("h1 .badge", has_text="paused").wait_for()
    page.click("button:has-text('Resume')")
    page.locator("h1 .badge", has_text="new").wait_for()

    page.click("#nav >> text=Checks")
    page.click("text=Database backup")
    page.locator("svg.chart").wait_for()
    screenshot(page, "check-history")

    page.goto(page.url.split("/checks")[0] + "/settings")
    screenshot(page, "settings")


def test_a_user_filters_tasks_and_opens_a_failed_runs_traceback(
    dashboard: Dashboard, browser: Any
) -> None:
    seed_tasks(dashboard)
    with api(dashboard) as client:  # a check of its own that falls silent after one ping
        spec = {"name": "Thumbnails", "slug": "thumbnails", "period": 1, "grace": 1}
        client.get(f"/ping/{client.post('/api/v1/checks', json=spec).json()['uuid']}")
    page = sign_in(browser, dashboard, dashboard.owner)
    # The tab's title counts the checks that are down, even in the background. expect()
    # polls from Playwright's own world: a wait_for_function string would need eval, which
    # the dashboard's Content-Security-Policy forbids once the first check is false.
    expect(page).to_have_title(re.compile(r"^\(\d down\) Overview"), timeout=30_000)
    screenshot(page, "overview")
    page.click("#nav >> text=Tasks")
    page.locator("tr[data-run]").first.wait_for()
    screenshot(page, "tasks")
    page.select_option("select[name=status]", "failed")
    page.wait_for_url(re.compile(r".*status=failed.*"))
    statuses = page.locator("tr[data-run] .badge").all_inner_texts()
    assert statuses and {s.strip().lower() for s in statuses} == {"failed"}
    page.select_option("select[name=queue_name]", "billing")
    page.wait_for_url(re.compile(r".*queue_name=billing.*"))
    assert "status=failed" in page.url
    page.locator("tr[data-run] a.strong").first.click()
    traceback = page.locator("pre.traceback")
    traceback.wait_for()
    assert "CardDeclined: card declined for customer 1042" in traceback.inner_text()
    assert page.locator(".tb-error").count() == 1
    assert "Attempt 2" in page.inner_text(".timeline")
    screenshot(page, "task-detail")
    page.click("#nav >> text=Errors")
    assert "CardDeclined" in page.inner_text("main")
    screenshot(page, "errors")
    page.click("#nav >> text=Charts")
    page.locator("svg.chart").first.wait_for()
    screenshot(page, "task-charts")
    # The seeded check that went silent is down: the built-in rule opened an incident.
    page.click("#nav >> text=Incidents")
    page.locator("button:has-text('Acknowledge')").first.click()
    page.locator(".incident .badge", has_text="acked").first.wait_for()
    page.locator(".incident a.strong").first.click()
    page.locator("h2", has_text="Notices").wait_for()
    screenshot(page, "incident")
    for section in ("Queues", "Workers", "Incidents", "Rules", "Channels", "Silences"):
        page.click(f"#nav >> text={section}")
        assert page.locator("h1").inner_text().strip() != ""
        screenshot(page, section.lower())


def test_the_dashboard_follows_a_dark_system_theme_and_fits_a_phone(
    dashboard: Dashboard, browser: Any
) -> None:
    visitor = browser.new_context(viewport={"width": 1100, "height": 700}).new_page()
    visitor.goto(f"{dashboard.url}/p/1/checks")
    assert "/login?next=" in visitor.url
    screenshot(visitor, "login")
    page = sign_in(browser, dashboard, dashboard.owner, color_scheme="dark")
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background != "rgb(245, 246, 248)"
    page.goto(page.url + "checks")
    screenshot(page, "checks-dark")
    page.click("[data-theme-toggle]")  # auto -> light, remembered across pages
    page.reload()
    assert page.evaluate("document.documentElement.dataset.theme") == "light"
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(245, 246, 248)"
    phone = sign_in(browser, dashboard, dashboard.owner, viewport={"width": 390, "height": 844})
    assert phone.locator("#nav").is_hidden()
    phone.click("[data-menu]")
    assert phone.locator("#nav").is_visible()
    screenshot(phone, "overview-phone")
    base = phone.url.rstrip("/")
    for path, name in (("/checks", "checks-phone"), ("/tasks?status=failed", "tasks-phone")):
        phone.goto(base + path)
        screenshot(phone, name)


def test_a_read_only_member_cannot_change_anything(dashboard: Dashboard, browser: Any) -> None:
    with api(dashboard) as client:
        check = client.post("/api/v1/checks", json={"name": "Read-only target"}).json()
    page = sign_in(browser, dashboard, dashboard.viewer)
    base = page.url.rstrip("/")
    page.goto(f"{base}/checks")
    assert page.locator("text=New check").count() == 0
    page.goto(f"{base}/checks/{check['uuid']}")
    assert page.locator("button:has-text('Pause')").count() == 0
    assert page.locator("form[action$='/delete']").count() == 0
    csrf = page.input_value("form[action='/logout'] input[name=csrf_token]")
    answer = page.request.post(
        f"{base}/checks/{check['uuid']}/pause", form={"csrf_token": csrf}, max_redirects=0
    )
    assert answer.status == 403
    assert page.goto(f"{base}/checks/new").status == 403
    page.goto(f"{base}/settings")
    assert page.locator("text=Create key").count() == 0


def test_pages_of_another_project_answer_404(dashboard: Dashboard, browser: Any) -> None:
    stranger = sign_in(browser, dashboard, dashboard.stranger)
    elsewhere = stranger.url.rstrip("/")
    with httpx.Client(base_url=dashboard.url) as client:
        assert client.get("/ping/00000000-0000-0000-0000-000000000000").status_code == 404
    owner = sign_in(browser, dashboard, dashboard.owner)
    for path in ("/", "/checks", "/settings", "/checks/new"):
        assert owner.goto(elsewhere + path).status == 404
    screenshot(owner, "not-found")
