"""Password recovery: the email, the single-use expiring link, the reset, the preview."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import pytest
from django.core import mail
from django.test import override_settings

from apps.users import recovery
from tests.conftest import PASSWORD
from tests.users.conftest import assert_envelope, login

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("celery_inline")]

RESET = "/api/v1/reset-password/"
NEW_PASSWORD = "a-brand-new-passphrase"


def recover(api, email):
    return api.post(f"/api/v1/password-recovery/{email}")


def token_from(message) -> str:
    match = re.search(r"https?://\S+/reset-password\?token=\S+", message.body)
    assert match
    link = match.group(0)
    return parse_qs(urlparse(link).query)["token"][0]


def test_recovery_sends_html_and_text_email_with_frontend_link(api, user, settings):
    settings.FRONTEND_URL = "https://app.example.com"
    response = recover(api, user.email.upper())
    assert response.status_code == 200
    assert set(response.json()) == {"message"}
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [user.email]
    assert "https://app.example.com/reset-password?token=" in message.body
    html, mimetype = message.alternatives[0]  # type: ignore[attr-defined]
    assert mimetype == "text/html"
    assert token_from(message) in html


@pytest.mark.promise(4)
def test_recovery_answers_the_same_for_unknown_and_inactive(api, user, make_user):
    inactive = make_user(is_active=False)
    answers = [recover(api, email) for email in (user.email, "ghost@example.com", inactive.email)]
    assert {r.status_code for r in answers} == {200}
    assert len({r.content for r in answers}) == 1
    assert len(mail.outbox) == 1  # only the active account gets mail


def test_recovery_swallows_smtp_failures(api, user, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 1  # nothing listens there
    assert recover(api, user.email).status_code == 200


def test_reset_password_with_token(api, user):
    recover(api, user.email)
    token = token_from(mail.outbox[0])
    response = api.post(RESET, {"token": token, "new_password": NEW_PASSWORD}, format="json")
    assert response.status_code == 200
    assert set(response.json()) == {"message"}
    assert login(api, user.email, NEW_PASSWORD).status_code == 200


def test_reset_token_is_single_use(api, user):
    token = recovery.make_reset_token(user)
    body = {"token": token, "new_password": NEW_PASSWORD}
    assert api.post(RESET, body, format="json").status_code == 200
    body["new_password"] = "yet-another-passphrase"
    assert assert_envelope(api.post(RESET, body, format="json"), 400) == "Invalid token"


def test_reset_token_expires(api, user):
    token = recovery.make_reset_token(user)
    with override_settings(PASSWORD_RESET_TIMEOUT=-1):
        response = api.post(RESET, {"token": token, "new_password": NEW_PASSWORD}, format="json")
    assert_envelope(response, 400)
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


@pytest.mark.parametrize("token", ["", "garbage", "bm90LWEtdXVpZA.abc-def", "!!!.x", "a.b.c"])
def test_reset_with_bad_token_is_400(api, user, token):
    body = {"token": token or "x", "new_password": NEW_PASSWORD}
    assert assert_envelope(api.post(RESET, body, format="json"), 400) == "Invalid token"


def test_reset_for_inactive_user_is_400(api, make_user):
    inactive = make_user(is_active=False)
    body = {"token": recovery.make_reset_token(inactive), "new_password": NEW_PASSWORD}
    assert_envelope(api.post(RESET, body, format="json"), 400)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"token": "x"},
        {"new_password": NEW_PASSWORD},
        {"token": 1, "new_password": NEW_PASSWORD},
    ],
)
def test_reset_bad_input_is_422(api, body):
    assert_envelope(api.post(RESET, body, format="json"), 422)


def test_reset_weak_password_is_422_and_keeps_the_token(api, user):
    token = recovery.make_reset_token(user)
    weak = api.post(RESET, {"token": token, "new_password": "12345678"}, format="json")
    detail = assert_envelope(weak, 422)
    assert detail[0]["loc"] == ["body", "new_password"]
    ok = api.post(RESET, {"token": token, "new_password": NEW_PASSWORD}, format="json")
    assert ok.status_code == 200


def test_recovery_html_content_for_superuser(superuser, user, client_for):
    response = client_for(superuser).post(f"/api/v1/password-recovery-html-content/{user.email}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert "/reset-password?token=" in response.content.decode()
    assert user.email in response["X-Email-Subject"]
    assert mail.outbox == []


def test_recovery_html_content_errors(api, superuser, user, client_for):
    url = "/api/v1/password-recovery-html-content/"
    assert_envelope(client_for(user).post(url + user.email), 403)
    assert_envelope(api.post(url + user.email), 401)
    assert_envelope(client_for(superuser).post(url + "ghost@example.com"), 404)


@pytest.mark.promise(5)
def test_recovery_email_task_is_at_most_once():
    """Acknowledged on receipt and never retried: a worker that dies mid-send, or a
    redelivered message, cannot email the same link twice (the user can ask again)."""
    from apps.users.tasks import password_recovery_send

    assert password_recovery_send.acks_late is False
    assert not getattr(password_recovery_send, "autoretry_for", ())


def test_recovery_email_goes_out_from_the_worker_not_the_request(api, user, monkeypatch):
    from apps.users.tasks import password_recovery_send

    queued: list[str] = []
    monkeypatch.setattr(password_recovery_send, "delay", queued.append)
    assert recover(api, user.email.upper()).status_code == 200
    assert queued == [user.email]
    assert mail.outbox == []  # nothing sent while the client waited
