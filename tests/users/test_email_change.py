"""Changing one's email: the current password, a confirmation link to the new address,
and answers (and request work) that never tell whether an address is registered."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.users import services
from apps.users.email_change import email_change_send, make_token
from tests.conftest import PASSWORD
from tests.users.conftest import assert_envelope, login

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("celery_inline")]

ME = "/api/v1/users/me"
CONFIRM = "/api/v1/users/confirm-email"
SAVEPOINT = re.compile(r'"s\d+_x\d+"')


def token_from(message) -> str:
    match = re.search(r"https?://\S+/confirm-email\?token=\S+", message.body)
    assert match, message.body
    return parse_qs(urlparse(match.group(0)).query)["token"][0]


def ask(client, email, password=PASSWORD, run_on_commit=None, **extra):
    body = {"email": email, "current_password": password, **extra}
    if run_on_commit is None:
        return client.patch(ME, body, format="json")
    with run_on_commit(execute=True):
        return client.patch(ME, body, format="json")


def test_a_new_address_changes_once_confirmed_by_its_link(
    api, user, client_for, django_capture_on_commit_callbacks, settings
):
    settings.FRONTEND_URL = "https://app.example.com"
    old = user.email
    response = ask(
        client_for(user), "New@Example.com", run_on_commit=django_capture_on_commit_callbacks
    )

    assert response.status_code == 200
    assert response.json()["email"] == old  # nothing changes before the link is used
    user.refresh_from_db()
    assert user.email == old
    (message,) = mail.outbox
    assert message.to == ["new@example.com"]
    assert "https://app.example.com/confirm-email?token=" in message.body
    assert old in message.body

    confirmed = api.post(CONFIRM, {"token": token_from(message)}, format="json")
    assert confirmed.status_code == 200
    assert confirmed.json()["email"] == "new@example.com"
    assert login(api, "new@example.com").status_code == 200
    assert login(api, old).status_code == 400
    again = api.post(CONFIRM, {"token": token_from(message)}, format="json")
    assert assert_envelope(again, 400) == "Invalid token"  # single use


@pytest.mark.promise(4)
def test_a_taken_address_gets_the_same_answer_and_its_owner_a_notice(
    user, make_user, client_for, django_capture_on_commit_callbacks
):
    owner = make_user()
    free = ask(
        client_for(user), "free@example.com", run_on_commit=django_capture_on_commit_callbacks
    )
    taken = ask(client_for(user), owner.email, run_on_commit=django_capture_on_commit_callbacks)

    assert (free.status_code, taken.status_code) == (200, 200)
    assert free.content == taken.content
    confirm, notice = mail.outbox
    assert confirm.to == ["free@example.com"]
    assert notice.to == [owner.email]
    assert "confirm-email" not in notice.body  # no link: nothing to take over
    assert "nothing has changed" in notice.body
    owner.refresh_from_db()
    user.refresh_from_db()
    assert (owner.email, user.email) != (user.email, owner.email)


@pytest.mark.promise(4)
def test_the_request_does_the_same_work_for_a_taken_and_a_free_address(
    user, make_user, client_for, django_capture_on_commit_callbacks
):
    owner = make_user()
    client = client_for(user)

    def work(address: str) -> tuple[int, list[str], int]:
        # The same start for both: the user's row cached (launch/rights_cache.py), as
        # any earlier request leaves it.
        assert client.get(ME).status_code == 200
        with (
            CaptureQueriesContext(connection) as queries,
            django_capture_on_commit_callbacks() as queued,
        ):
            response = ask(client, address)
        statements = [SAVEPOINT.sub("sp", q["sql"]) for q in queries.captured_queries]
        return response.status_code, statements, len(queued)

    assert work("free@example.com") == work(owner.email)


def test_an_email_change_needs_the_current_password(user, client_for):
    client = client_for(user)
    missing = client.patch(ME, {"email": "n@example.com", "full_name": "X"}, format="json")
    assert assert_envelope(missing, 422)[0]["loc"] == ["body", "current_password"]
    wrong = client.patch(
        ME,
        {"email": "n@example.com", "full_name": "X", "current_password": "not-it-at-all"},
        format="json",
    )
    assert assert_envelope(wrong, 400) == "Incorrect password"
    user.refresh_from_db()
    assert user.full_name == "Ada Lovelace"  # a refused change changes nothing
    assert mail.outbox == []


def test_the_same_address_or_a_name_alone_needs_no_password(user, client_for):
    client = client_for(user)
    response = client.patch(ME, {"email": user.email.upper(), "full_name": "Ada"}, format="json")
    assert response.status_code == 200
    assert client.patch(ME, {"full_name": "Ada K"}, format="json").status_code == 200


def test_a_link_dies_with_a_password_change_and_with_time(api, user, settings):
    token = make_token(user, "later@example.com")
    services.user_set_password(user=user, password="another-long-passphrase")
    assert_envelope(api.post(CONFIRM, {"token": token}, format="json"), 400)

    user.refresh_from_db()
    settings.EMAIL_CHANGE_TIMEOUT = -1  # every token is older than that
    expired = make_token(user, "later@example.com")
    assert_envelope(api.post(CONFIRM, {"token": expired}, format="json"), 400)


@pytest.mark.parametrize("token", ["garbage", "a:b:c", "", "x" * 1025])
def test_a_malformed_token_is_refused(api, token):
    response = api.post(CONFIRM, {"token": token}, format="json")
    assert response.status_code in (400, 422)
    assert set(response.json()) == {"detail"}


def test_an_address_taken_before_the_link_is_used_is_a_409(api, user, make_user):
    token = make_token(user, "contested@example.com")
    make_user(email="contested@example.com")
    response = api.post(CONFIRM, {"token": token}, format="json")
    assert assert_envelope(response, 409)
    user.refresh_from_db()
    assert user.email != "contested@example.com"


def test_the_worker_sends_nothing_for_an_inactive_user_or_its_own_address(make_user):
    inactive = make_user(is_active=False)
    active = make_user()
    assert email_change_send(user_id=inactive.pk, new_email="x@example.com") is None
    assert email_change_send(user_id=active.pk, new_email=active.email.upper()) is None
    assert mail.outbox == []


def test_a_superuser_still_changes_an_email_at_once_with_409_on_a_taken_one(
    superuser, user, make_user, client_for
):
    admin = client_for(superuser)
    response = admin.patch(f"/api/v1/users/{user.pk}", {"email": "ada@new.example"}, format="json")
    assert response.json()["email"] == "ada@new.example"
    other = make_user()
    taken = admin.patch(f"/api/v1/users/{user.pk}", {"email": other.email}, format="json")
    assert_envelope(taken, 409)
