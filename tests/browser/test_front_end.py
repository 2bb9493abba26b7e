"""The upstream front end's use of Launch, in a real Chromium against the real server.

Every call is `fetch(..., {credentials: "include"})` from a page on another origin, with
no Authorization and no CSRF header: after login the httpOnly cookies are all the
browser has. The attacker tests make the same writes from pages the API does not trust
and check that nothing was written.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from apps.chat.models import ChatMessage
from apps.items.models import Item
from apps.projects.models import Document, Project
from apps.users.models import User
from tests.browser.conftest import Page, StaticSite, start_server
from tests.support.celery_worker import CeleryWorker
from tests.support.launch_server import LaunchServer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EMAIL = "ada@example.com"
PASSWORD = "correct-horse-battery-staple"
NEW_PASSWORD = "analytical-engine-2024"
NOTES = (
    "# Engine notes\n\nThe Analytical Engine read its programs from punched cards.\n"
    "Ada Lovelace wrote the first program for it.\n"
)


@pytest.fixture
def server_and_worker(front_end: StaticSite) -> Iterator[tuple[LaunchServer, CeleryWorker]]:
    """The server and a real Celery worker, started side by side."""
    celery = CeleryWorker().launch()
    try:
        launch = start_server(front_end)
        try:
            yield launch, celery.wait_ready()
        finally:
            launch.stop()
    finally:
        celery.stop()


def ok(result: dict[str, Any], status: int, server: LaunchServer) -> Any:
    assert "blocked" not in result, f"{result}\n--- server log ---\n{server.log()[-3000:]}"
    assert result["status"] == status, f"{result}\n--- server log ---\n{server.log()[-3000:]}"
    return result["body"]


def sign_in(page: Page, server: LaunchServer, email: str = EMAIL, password: str = PASSWORD) -> None:
    form = {"username": email, "password": password}
    ok(page.call("POST", "/api/v1/login/access-token", "form", form), 200, server)


def wait_until_processed(page: Page, server: LaunchServer, document_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        document = ok(page.call("GET", f"/api/v1/documents/{document_id}"), 200, server)
        if document["status"] in ("completed", "failed"):
            return document
        time.sleep(0.3)
    pytest.fail(f"document {document_id} was not processed\n{server.log()[-3000:]}")


def test_the_front_end_works_with_cookies_only(browser_context, front_end, server_and_worker):
    server, _ = server_and_worker
    page = Page(browser_context, front_end.origin(), server.url)

    signup = {"email": EMAIL, "password": PASSWORD, "full_name": "Ada Lovelace"}
    ok(page.call("POST", "/api/v1/users/signup", "json", signup), 201, server)
    sign_in(page, server)
    cookies = page.auth_cookies()
    assert set(cookies) == {"access_token", "refresh_token"}
    for cookie in cookies.values():
        # httpOnly, Lax, and not Secure: DEBUG serves plain http://localhost
        assert (cookie["httpOnly"], cookie["sameSite"], cookie["secure"]) == (True, "Lax", False)

    me = ok(page.call("GET", "/api/v1/users/me"), 200, server)
    assert me["email"] == EMAIL

    item = ok(
        page.call("POST", "/api/v1/items/", "json", {"title": "Notes", "description": "v1"}),
        201,
        server,
    )
    edit = {"title": "Notes, edited", "description": "v2"}
    assert ok(page.call("PUT", f"/api/v1/items/{item['id']}", "json", edit), 200, server)[
        "title"
    ] == ("Notes, edited")

    project = ok(
        page.call("POST", "/api/v1/projects", "json", {"name": "Engines", "description": ""}),
        201,
        server,
    )
    upload = {"file": {"content": NOTES, "type": "text/markdown", "filename": "engine.md"}}
    document = ok(
        page.call("POST", f"/api/v1/projects/{project['id']}/documents", "multipart", upload),
        201,
        server,
    )
    processed = wait_until_processed(page, server, document["id"])
    assert processed["status"] == "completed", processed

    conversation = ok(
        page.call(
            "POST",
            "/api/v1/chat/conversations",
            "json",
            {"title": "Questions", "use_documents": True, "project_id": project["id"]},
        ),
        201,
        server,
    )
    answer = ok(
        page.call(
            "POST",
            f"/api/v1/chat/conversations/{conversation['id']}/messages",
            "json",
            {"content": "What did the engine read its programs from?"},
        ),
        201,
        server,
    )
    assert answer["role"] == "assistant"
    assert answer["document_references"][0]["filename"] == "engine.md"
    assert answer["document_references"][0]["page_number"] is None  # Markdown has no pages

    profile = ok(
        page.call("PATCH", "/api/v1/users/me", "json", {"full_name": "Augusta Ada King"}),
        200,
        server,
    )
    assert profile["full_name"] == "Augusta Ada King"

    change = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    ok(page.call("PATCH", "/api/v1/users/me/password", "json", change), 200, server)
    # A password change ends every session, this one included.
    ok(page.call("GET", "/api/v1/users/me"), 401, server)
    assert page.auth_cookies() == {}
    sign_in(page, server, password=NEW_PASSWORD)
    assert ok(page.call("GET", "/api/v1/users/me"), 200, server)["full_name"] == (
        "Augusta Ada King"
    )

    # The dev server's other promises to that front end: JSON for every API answer
    # (DEBUG's HTML pages included), and the route its end-to-end tests make users with.
    for method, path, status in [
        ("GET", "/api/v1/nowhere", 404),
        ("POST", "/api/v1/items/nope/deeper", 404),
        ("DELETE", "/api/v1/login/access-token", 405),
        ("PUT", "/api/v1/projects", 405),
    ]:
        result = page.call(method, path)
        assert (result["status"], result["contentType"]) == (status, "application/json"), result
        assert set(result["body"]) == {"detail"}
    body = {
        "email": "e2e@example.com",
        "password": PASSWORD,
        "full_name": "E2E",
        "is_verified": True,
    }
    ok(page.call("POST", "/api/v1/private/users/", "json", body), 201, server)
    ok(page.call("POST", "/api/v1/logout"), 200, server)
    assert page.auth_cookies() == {}
    ok(page.call("GET", "/api/v1/users/me"), 401, server)
    sign_in(page, server, email="e2e@example.com")  # the account the private route made

    user = User.objects.get(email=EMAIL)
    assert Item.objects.get(owner=user).title == "Notes, edited"
    assert Document.objects.get(project__owner=user).status == Document.Status.COMPLETED
    assert ChatMessage.objects.filter(conversation_id=conversation["id"]).count() == 2


def test_a_session_outlives_its_access_token(browser_context, front_end: StaticSite):
    short = start_server(front_end, ACCESS_TOKEN_EXPIRE_SECONDS="2")
    try:
        page = Page(browser_context, front_end.origin(), short.url)
        signup = {"email": EMAIL, "password": PASSWORD}
        ok(page.call("POST", "/api/v1/users/signup", "json", signup), 201, short)
        sign_in(page, short)
        refresh_tokens = {page.auth_cookies()["refresh_token"]["value"]}

        # Work past several lifetimes of the access token, reading and writing, until
        # the session has been renewed (a new refresh cookie) at least twice.
        writes = 0
        deadline = time.monotonic() + 60
        while len(refresh_tokens) < 3 and time.monotonic() < deadline:
            time.sleep(1)
            ok(page.call("GET", "/api/v1/users/me"), 200, short)
            ok(page.call("POST", "/api/v1/items/", "json", {"title": f"w{writes}"}), 201, short)
            writes += 1
            refresh_tokens.add(page.auth_cookies()["refresh_token"]["value"])
        assert len(refresh_tokens) >= 3, "the session was never renewed"

        # A page that loads fires several requests at once after the token expired:
        # one renews, the others ride on it, none is logged out.
        time.sleep(2.2)
        assert "access_token" not in page.auth_cookies()  # the browser dropped it
        results = page.call_all([["GET", "/api/v1/users/me"], ["GET", "/api/v1/items/"]] * 3)
        assert [r.get("status") for r in results] == [200] * 6, results
        assert ok(page.call("GET", "/api/v1/items/"), 200, short)["count"] == writes

        ok(page.call("POST", "/api/v1/logout"), 200, short)
        assert page.auth_cookies() == {}
        ok(page.call("GET", "/api/v1/users/me"), 401, short)
    finally:
        short.stop()


# --- pages the API does not trust -----------------------------------------------------------


def victim_world(page: Page, server: LaunchServer) -> dict[str, str]:
    """The victim signs up on the real front end, with an item, a project and a chat."""
    signup = {"email": EMAIL, "password": PASSWORD, "full_name": "Victim"}
    ok(page.call("POST", "/api/v1/users/signup", "json", signup), 201, server)
    sign_in(page, server)
    item = ok(page.call("POST", "/api/v1/items/", "json", {"title": "Mine"}), 201, server)
    project = ok(page.call("POST", "/api/v1/projects", "json", {"name": "Mine"}), 201, server)
    conversation = ok(
        page.call("POST", "/api/v1/chat/conversations", "json", {"title": "Mine"}), 201, server
    )
    return {"item": item["id"], "project": project["id"], "conversation": conversation["id"]}


def attack(page: Page, world: dict[str, str]) -> list[dict[str, Any]]:
    """Every write the front end makes, from `page`: JSON (the browser asks CORS first)
    and the forms a page can send without asking (form-encoded, multipart, none)."""
    upload = {"file": {"content": "pwned", "type": "text/plain", "filename": "pwned.txt"}}
    password = {"current_password": PASSWORD, "new_password": "pwned-pwned-pwned"}
    calls = [
        ("POST", "/api/v1/items/", "json", {"title": "pwned"}),
        ("POST", "/api/v1/items/", "form", {"title": "pwned"}),
        ("PUT", f"/api/v1/items/{world['item']}", "json", {"title": "pwned"}),
        ("POST", "/api/v1/projects", "form", {"name": "pwned"}),
        ("POST", f"/api/v1/projects/{world['project']}/documents", "multipart", upload),
        (
            "POST",
            f"/api/v1/chat/conversations/{world['conversation']}/messages",
            "form",
            {"content": "pwned"},
        ),
        ("PATCH", "/api/v1/users/me", "json", {"full_name": "pwned"}),
        ("PATCH", "/api/v1/users/me/password", "json", password),
        ("DELETE", "/api/v1/users/me", None, None),
        ("POST", "/api/v1/logout", None, None),
    ]
    return [page.call(*call) for call in calls]


def assert_untouched(page: Page, server: LaunchServer, world: dict[str, str]) -> None:
    """Checked as the victim, on the real front end, and in the database."""
    me = ok(page.call("GET", "/api/v1/users/me"), 200, server)  # still signed in
    assert me["full_name"] == "Victim"
    items = ok(page.call("GET", "/api/v1/items/"), 200, server)
    assert [i["title"] for i in items["data"]] == ["Mine"]
    assert (
        ok(page.call("GET", f"/api/v1/projects/{world['project']}/documents"), 200, server)["count"]
        == 0
    )
    assert not Item.objects.filter(title="pwned").exists()
    assert not Project.objects.filter(name="pwned").exists()
    assert not Document.objects.exists()
    assert not ChatMessage.objects.exists()
    assert User.objects.get(email=EMAIL).check_password(PASSWORD)


def test_pages_the_api_does_not_trust_cannot_write_with_the_cookies(
    browser_context,
    front_end: StaticSite,
    other_site: StaticSite,
    server: LaunchServer,
):
    victim = Page(browser_context, front_end.origin(), server.url)
    world = victim_world(victim, server)

    # localhost:<other port> is the same site as the API: SameSite=Lax sends the cookies.
    # Only the origin check stands between this page and the victim's account.
    same_site = Page(browser_context, other_site.origin(), server.url)
    mark = server.mark()
    for result in attack(same_site, world):
        # CORS: the page may read no answer; the JSON ones never left the browser
        assert "blocked" in result, result
    answered = server.answers(since=mark)
    assert len(answered) >= 5, "the simple requests did not reach the server"
    assert {status for _, _, status in answered} == {403}, answered
    # A plain HTML form (no script, a top-level navigation) is refused as well.
    navigation = same_site.form_post("/api/v1/items/", {"title": "pwned"})
    assert navigation.status == 403
    assert "CSRF failed" in navigation.json()["detail"]

    # 127.0.0.1 is another site than localhost: SameSite=Lax keeps the cookies home, so
    # what gets through CORS arrives anonymous.
    cross_site = Page(browser_context, other_site.origin("127.0.0.1"), server.url)
    mark = server.mark()
    for result in attack(cross_site, world):
        assert "blocked" in result, result
    answered = server.answers(since=mark)
    assert len(answered) >= 5, "the simple requests did not reach the server"
    # Logout without a cookie has nothing to revoke: its 200 changes nothing.
    assert {status for _, path, status in answered if path != "/api/v1/logout"} == {401}, answered
    assert cross_site.form_post("/api/v1/items/", {"title": "pwned"}).status == 401

    assert_untouched(victim, server, world)
