"""Dashboard access: sign-in, cookies, CSRF, roles and project isolation (SQLite and
PostgreSQL)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from jobpulse.api.app import create_app
from jobpulse.cli import main
from jobpulse.runtime import Runtime
from jobpulse.store.members import Membership, upsert_membership
from jobpulse.store.projects import create_key, ensure_project
from jobpulse.store.users import NewUser, hash_password, insert_user

PASSWORD = "a long enough password"
PASSWORD_HASH = hash_password(PASSWORD)  # Argon2 is slow on purpose: hash once per run.
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')

SignIn = Callable[[str], TestClient]
HEADING_BADGE = re.compile(r'<h1[^>]*>.*?class="badge [^"]*">.*?</span>([\w ]+)</span>', re.S)


def status_shown(html: str) -> str:
    found = HEADING_BADGE.search(html)
    assert found is not None
    return found.group(1)


def add_user(runtime: Runtime, email: str, project: str, role: str) -> int:
    now = datetime.now(UTC)
    with runtime.engine.begin() as conn:
        user_id = insert_user(conn, NewUser(email, PASSWORD_HASH, False, now))
        project_id = ensure_project(conn, project)
        upsert_membership(conn, Membership(project_id, user_id, role, now))
    return project_id


def login(client: TestClient, email: str, password: str = PASSWORD) -> TestClient:
    token = CSRF.search(client.get("/login").text)
    assert token is not None
    form = {"csrf_token": token.group(1), "email": email, "password": password}
    client.post("/login", data=form, follow_redirects=False)
    return client


def csrf_of(client: TestClient, path: str) -> str:
    found = CSRF.search(client.get(path).text)
    assert found is not None
    return found.group(1)


@pytest.fixture
def projects(runtime: Runtime) -> dict[str, int]:
    return {
        "home": add_user(runtime, "owner@example.com", "home", "owner"),
        "home_member": add_user(runtime, "member@example.com", "home", "member"),
        "home_viewer": add_user(runtime, "viewer@example.com", "home", "read-only"),
        "away": add_user(runtime, "stranger@example.com", "away", "owner"),
    }


@pytest.fixture
def sign_in(runtime: Runtime, projects: dict[str, int]) -> Iterator[SignIn]:
    clients: list[TestClient] = []

    def make(email: str) -> TestClient:
        client = TestClient(
            create_app(runtime, manage_runtime=False), base_url="https://testserver"
        )
        clients.append(client)
        return login(client, email)

    yield make
    for client in clients:
        client.close()


def create_check(client: TestClient, project_id: int, **fields: str) -> str:
    form = {
        "csrf_token": csrf_of(client, f"/p/{project_id}/checks/new"),
        "name": "nightly",
        "kind": "simple",
        "period_value": "1",
        "period_unit": "h",
        "grace_value": "5",
        "grace_unit": "min",
        **fields,
    }
    answer = client.post(f"/p/{project_id}/checks", data=form, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    return answer.headers["location"].rsplit("/", 1)[1]


def test_pages_send_a_signed_out_visitor_to_the_sign_in_page(runtime: Runtime) -> None:
    with TestClient(create_app(runtime, manage_runtime=False)) as client:
        answer = client.get("/p/1/checks?status=down", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=/p/1/checks%3Fstatus%3Ddown"


def test_the_session_cookie_is_secure_httponly_and_samesite_lax(
    runtime: Runtime, projects: dict[str, int]
) -> None:
    client = TestClient(create_app(runtime, manage_runtime=False), base_url="https://testserver")
    token = CSRF.search(client.get("/login").text)
    assert token is not None
    form = {"csrf_token": token.group(1), "email": "Owner@Example.com", "password": PASSWORD}
    answer = client.post("/login", data=form, follow_redirects=False)
    assert answer.status_code == 303
    cookie = answer.headers["set-cookie"].lower()
    assert "jobpulse_session=" in cookie
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" in cookie


def test_over_http_to_localhost_the_cookie_is_not_marked_secure(
    runtime: Runtime, projects: dict[str, int]
) -> None:
    client = TestClient(create_app(runtime, manage_runtime=False), base_url="http://localhost")
    login(client, "owner@example.com")
    assert client.get("/", follow_redirects=False).headers["location"].startswith("/p/")


def test_a_wrong_password_is_refused_without_a_session(
    runtime: Runtime, projects: dict[str, int]
) -> None:
    client = TestClient(create_app(runtime, manage_runtime=False), base_url="https://testserver")
    token = CSRF.search(client.get("/login").text)
    assert token is not None
    form = {"csrf_token": token.group(1), "email": "owner@example.com", "password": "nope"}
    answer = client.post("/login", data=form, follow_redirects=False)
    assert answer.status_code == 401
    assert "Wrong email or password" in answer.text
    assert "jobpulse_session" not in client.cookies


def test_a_sign_in_without_the_forms_csrf_token_is_refused(
    runtime: Runtime, projects: dict[str, int]
) -> None:
    client = TestClient(create_app(runtime, manage_runtime=False), base_url="https://testserver")
    client.get("/login")
    form = {"csrf_token": "forged", "email": "owner@example.com", "password": PASSWORD}
    assert client.post("/login", data=form, follow_redirects=False).status_code == 403


def test_a_form_post_without_the_sessions_csrf_token_changes_nothing(
    sign_in: SignIn, projects: dict[str, int]
) -> None:
    owner = sign_in("owner@example.com")
    home = projects["home"]
    check = create_check(owner, home)
    forged = owner.post(f"/p/{home}/checks/{check}/pause", data={"csrf_token": "x"})
    assert forged.status_code == 403
    missing = owner.post(f"/p/{home}/checks/{check}/pause")
    assert missing.status_code == 403
    assert status_shown(owner.get(f"/p/{home}/checks/{check}").text) == "new"


def test_signing_out_ends_the_session(sign_in: SignIn, projects: dict[str, int]) -> None:
    owner = sign_in("owner@example.com")
    session = owner.cookies["jobpulse_session"]
    token = csrf_of(owner, f"/p/{projects['home']}/")
    assert (
        owner.post("/logout", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    )
    owner.cookies.set("jobpulse_session", session)
    assert owner.get("/", follow_redirects=False).headers["location"].startswith("/login")


def test_sign_in_never_redirects_off_site(runtime: Runtime, projects: dict[str, int]) -> None:
    client = TestClient(create_app(runtime, manage_runtime=False), base_url="https://testserver")
    token = CSRF.search(client.get("/login?next=//evil.example/x").text)
    assert token is not None
    form = {
        "csrf_token": token.group(1),
        "email": "owner@example.com",
        "password": PASSWORD,
        "next": "//evil.example/x",
    }
    assert client.post("/login", data=form, follow_redirects=False).headers["location"] == "/"


def test_a_read_only_member_sees_but_cannot_change_anything(
    sign_in: SignIn, projects: dict[str, int]
) -> None:
    home = projects["home"]
    check = create_check(sign_in("owner@example.com"), home)
    viewer = sign_in("viewer@example.com")
    page = viewer.get(f"/p/{home}/checks/{check}")
    assert page.status_code == 200 and "Pause" not in page.text
    token = csrf_of(viewer, f"/p/{home}/checks")
    for path in (
        f"checks/{check}/pause",
        f"checks/{check}/delete",
        f"checks/{check}",
        "checks",
        "settings/keys",
        "settings/members",
        "silences",
    ):
        assert viewer.post(f"/p/{home}/{path}", data={"csrf_token": token}).status_code == 403
    assert viewer.get(f"/p/{home}/checks/new").status_code == 403


def test_a_member_changes_checks_but_not_members_or_keys(
    sign_in: SignIn, projects: dict[str, int]
) -> None:
    home = projects["home"]
    member = sign_in("member@example.com")
    check = create_check(member, home)
    token = csrf_of(member, f"/p/{home}/checks")
    paused = member.post(f"/p/{home}/checks/{check}/pause", data={"csrf_token": token})
    assert paused.status_code == 200 and status_shown(paused.text) == "paused"
    assert member.post(f"/p/{home}/settings/keys", data={"csrf_token": token}).status_code == 403
    form = {"csrf_token": token, "email": "viewer@example.com", "role": "owner"}
    assert member.post(f"/p/{home}/settings/members", data=form).status_code == 403


def test_pages_and_actions_of_another_project_answer_404(
    sign_in: SignIn, projects: dict[str, int]
) -> None:
    away = projects["away"]
    their_check = create_check(sign_in("stranger@example.com"), away)
    owner = sign_in("owner@example.com")
    for path in (
        "/",
        "/checks",
        f"/checks/{their_check}",
        "/tasks",
        "/tasks/errors",
        "/queues",
        "/workers",
        "/incidents",
        "/rules",
        "/channels",
        "/silences",
        "/settings",
    ):
        assert owner.get(f"/p/{away}{path}").status_code == 404, path
    token = csrf_of(owner, f"/p/{projects['home']}/checks")
    assert (
        owner.post(f"/p/{away}/checks/{their_check}/pause", data={"csrf_token": token}).status_code
        == 404
    )
    # Their check's uuid under my own project is not found either.
    home = projects["home"]
    assert owner.get(f"/p/{home}/checks/{their_check}").status_code == 404
    assert (
        owner.post(f"/p/{home}/checks/{their_check}/pause", data={"csrf_token": token}).status_code
        == 404
    )


def test_an_owner_adds_members_and_manages_api_keys(
    runtime: Runtime, sign_in: SignIn, projects: dict[str, int]
) -> None:
    home = projects["home"]
    owner = sign_in("owner@example.com")
    token = csrf_of(owner, f"/p/{home}/settings")
    form = {
        "csrf_token": token,
        "email": "new@example.com",
        "role": "read-only",
        "password": "another long password",
    }
    assert owner.post(f"/p/{home}/settings/members", data=form).status_code == 200
    newcomer = TestClient(create_app(runtime, manage_runtime=False), base_url="https://testserver")
    login(newcomer, "new@example.com", "another long password")
    assert newcomer.get(f"/p/{home}/checks").status_code == 200

    created = owner.post(f"/p/{home}/settings/keys", data={"csrf_token": token, "name": "ci"})
    key = re.search(r"(jp_[A-Za-z0-9_-]+)</code>", created.text)
    assert key is not None
    api = TestClient(create_app(runtime, manage_runtime=False))
    headers = {"Authorization": f"Bearer {key.group(1)}"}
    assert api.get("/api/v1/checks", headers=headers).status_code == 200
    key_id = re.search(r"/settings/keys/(\d+)/revoke", created.text)
    assert key_id is not None
    owner.post(f"/p/{home}/settings/keys/{key_id.group(1)}/revoke", data={"csrf_token": token})
    assert api.get("/api/v1/checks", headers=headers).status_code == 401


def test_the_last_owner_cannot_leave_or_be_demoted(
    sign_in: SignIn, projects: dict[str, int]
) -> None:
    away = projects["away"]
    stranger = sign_in("stranger@example.com")
    token = csrf_of(stranger, f"/p/{away}/settings")
    form = {"csrf_token": token, "email": "stranger@example.com", "role": "member"}
    answer = stranger.post(f"/p/{away}/settings/members", data=form)
    assert answer.status_code == 400 and "at least one owner" in answer.text


def test_a_live_refresh_gets_only_the_pages_live_part(
    sign_in: SignIn, projects: dict[str, int]
) -> None:
    owner = sign_in("owner@example.com")
    home = projects["home"]
    create_check(owner, home, name="backup")
    fragment = owner.get(f"/p/{home}/checks?q=back", headers={"X-Live-Fragment": "1"})
    assert fragment.status_code == 200
    assert "<html" not in fragment.text and "backup" in fragment.text


def test_an_invalid_schedule_shows_the_form_again_with_the_reason(
    sign_in: SignIn, projects: dict[str, int]
) -> None:
    owner = sign_in("owner@example.com")
    home = projects["home"]
    form = {
        "csrf_token": csrf_of(owner, f"/p/{home}/checks/new"),
        "name": "bad",
        "kind": "cron",
        "schedule": "61 * * * *",
        "tz": "UTC",
        "period_value": "1",
        "period_unit": "d",
        "grace_value": "1",
        "grace_unit": "h",
    }
    answer = owner.post(f"/p/{home}/checks", data=form)
    assert answer.status_code == 422
    assert "invalid cron expression" in answer.text


def test_the_schedule_preview_lists_five_times_in_the_checks_timezone(
    sign_in: SignIn, projects: dict[str, int]
) -> None:
    owner = sign_in("owner@example.com")
    home = projects["home"]
    params = {
        "slug": "not a valid slug!",  # only the schedule's inputs matter to the preview
        "kind": "cron",
        "schedule": "0 3 * * *",
        "tz": "Europe/Helsinki",
        "period_value": "1",
        "period_unit": "d",
        "grace_value": "1",
        "grace_unit": "h",
    }
    times = owner.get(f"/p/{home}/checks/preview", params=params).json()["times"]
    assert len(times) == 5
    assert all(" 03:00:00 EE" in t["local"] for t in times)
    params["schedule"] = "61 * * * *"
    answer = owner.get(f"/p/{home}/checks/preview", params=params)
    assert answer.status_code == 422 and "schedule" in answer.json()["errors"]


def test_users_create_makes_an_admin_who_can_sign_in(database_url: str, runtime: Runtime) -> None:
    result = CliRunner().invoke(
        main,
        ["users", "create", "--admin", "--email", "Admin@Example.com", "--database", database_url],
        env={"JOBPULSE_USER_PASSWORD": PASSWORD},
    )
    assert result.exit_code == 0, result.output
    again = CliRunner().invoke(
        main,
        [
            "users",
            "create",
            "--email",
            "admin@example.com",
            "--password",
            PASSWORD,
            "--database",
            database_url,
        ],
    )
    assert again.exit_code != 0 and "already exists" in again.output
    client = TestClient(create_app(runtime, manage_runtime=False), base_url="https://testserver")
    login(client, "admin@example.com")
    assert client.get("/", follow_redirects=False).headers["location"].startswith("/p/")


def test_a_removed_member_loses_the_project_at_once(
    runtime: Runtime, sign_in: SignIn, projects: dict[str, int]
) -> None:
    home = projects["home"]
    viewer = sign_in("viewer@example.com")
    assert viewer.get(f"/p/{home}/checks").status_code == 200
    owner = sign_in("owner@example.com")
    token = csrf_of(owner, f"/p/{home}/settings")
    viewer_id = re.search(
        r"/settings/members/(\d+)/remove\" data-confirm=\"Remove viewer@",
        owner.get(f"/p/{home}/settings").text,
    )
    assert viewer_id is not None
    owner.post(
        f"/p/{home}/settings/members/{viewer_id.group(1)}/remove", data={"csrf_token": token}
    )
    assert viewer.get(f"/p/{home}/checks").status_code == 404
    assert "not in any project" in viewer.get("/").text


def test_members_send_test_notices_and_manage_silences(
    runtime: Runtime, sign_in: SignIn, projects: dict[str, int]
) -> None:
    home = projects["home"]
    with runtime.engine.begin() as conn:
        api_key = create_key(conn, home, read_only=False)
    api = TestClient(create_app(runtime, manage_runtime=False))
    channel = api.post(
        "/api/v1/channels",
        json={"name": "ops hook", "kind": "webhook", "config": {"url": "http://127.0.0.1:9/x"}},
        headers={"Authorization": f"Bearer {api_key}"},
    ).json()
    member = sign_in("member@example.com")
    token = csrf_of(member, f"/p/{home}/channels")
    tested = member.post(f"/p/{home}/channels/{channel['id']}/test", data={"csrf_token": token})
    assert tested.status_code == 200 and "ops hook: the test failed" in tested.text

    form = {"csrf_token": token, "matchers": "queue=emails", "hours": "4", "comment": "upgrade"}
    assert member.post(f"/p/{home}/silences", data=form).status_code == 200
    page = member.get(f"/p/{home}/silences").text
    assert "queue=emails" in page and "upgrade" in page
    bad = {**form, "matchers": "colour=blue"}
    assert member.post(f"/p/{home}/silences", data=bad).status_code == 400


def test_repeated_wrong_passwords_are_slowed_down(
    runtime: Runtime, projects: dict[str, int]
) -> None:
    client = TestClient(create_app(runtime, manage_runtime=False), base_url="https://testserver")
    statuses = []
    for _ in range(11):
        token = CSRF.search(client.get("/login").text)
        assert token is not None
        form = {"csrf_token": token.group(1), "email": "owner@example.com", "password": "guess"}
        statuses.append(client.post("/login", data=form, follow_redirects=False).status_code)
    assert statuses == [401] * 10 + [429]
    login(client, "owner@example.com")  # the right password waits too
    assert "jobpulse_session" not in client.cookies


def test_users_password_sets_a_new_password_and_ends_sessions(
    database_url: str, runtime: Runtime, sign_in: SignIn, projects: dict[str, int]
) -> None:
    signed_in = sign_in("viewer@example.com")
    result = CliRunner().invoke(
        main,
        ["users", "password", "--email", "viewer@example.com", "--database", database_url],
        env={"JOBPULSE_USER_PASSWORD": "a brand new password"},
    )
    assert result.exit_code == 0, result.output
    assert signed_in.get("/", follow_redirects=False).headers["location"].startswith("/login")
    client = TestClient(create_app(runtime, manage_runtime=False), base_url="https://testserver")
    login(client, "viewer@example.com", "a brand new password")
    assert "jobpulse_session" in client.cookies
    unknown = CliRunner().invoke(
        main,
        [
            "users",
            "password",
            "--email",
            "nobody@example.com",
            "--password",
            PASSWORD,
            "--database",
            database_url,
        ],
    )
    assert unknown.exit_code != 0 and "no user" in unknown.output
