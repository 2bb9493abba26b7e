"""Accepting an invitation without an account (the account is made in the same step),
and resending an invitation's email with a new link."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from auditlog.models import LogEntry
from django.core import mail
from django.core.cache import cache
from django.utils import timezone

from apps.teams.models import Invitation, Membership
from apps.users.models import User
from tests.conftest import PASSWORD
from tests.teams.conftest import LINK, invite, role_of

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_throttles() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


def accept_url(token: str) -> str:
    return f"/api/v1/invitations/{token}/accept"


def resend_url(invitation: Invitation) -> str:
    return f"/api/v1/teams/{invitation.team_id}/invitations/{invitation.pk}/resend"


def test_signing_up_through_an_invitation_makes_the_account_and_joins(api, team, owner):
    token = invite(team, "Grace@Example.com", "admin", actor=owner)
    response = api.post(
        accept_url(token), {"password": PASSWORD, "full_name": "Grace Hopper"}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    # As signup answers (UserPublic), plus the membership.
    assert body["email"] == "grace@example.com"
    assert body["full_name"] == "Grace Hopper"
    assert body["is_active"] is True
    assert body["is_superuser"] is False
    assert "password" not in body
    assert body["membership"]["team"]["id"] == str(team.pk)
    assert body["membership"]["role"]["key"] == "admin"
    grace = User.objects.get(email="grace@example.com")
    assert grace.check_password(PASSWORD)
    assert Membership.objects.get(team=team, user=grace).role.key == "admin"
    # Its personal team exists and stays the default one, as for any signup.
    assert Membership.objects.get(user=grace, is_default=True).team.is_personal
    assert Invitation.objects.get(team=team).accepted_by == grace
    # The new account signs in with that password.
    login = api.post("/api/v1/login/access-token", {"username": grace.email, "password": PASSWORD})
    assert login.status_code == 200


def test_the_signup_is_one_transaction_a_weak_password_leaves_nothing(api, team):
    token = invite(team, "grace@example.com")
    response = api.post(accept_url(token), {"password": "password"}, format="json")
    assert response.status_code == 422
    [error] = [e for e in response.json()["detail"] if e["loc"] == ["body", "password"]]
    assert error["msg"]
    assert not User.objects.filter(email="grace@example.com").exists()
    # The invitation is still usable with a good password.
    assert api.post(accept_url(token), {"password": PASSWORD}, format="json").status_code == 201


def test_a_missing_password_without_sign_in_is_401_and_a_bad_body_422(api, team):
    token = invite(team, "grace@example.com")
    response = api.post(accept_url(token))
    assert response.status_code == 401
    assert "password" in response.json()["detail"]
    bad = api.post(accept_url(token), {"password": 12345678}, format="json")
    assert bad.status_code == 422
    assert not User.objects.filter(email="grace@example.com").exists()


def test_an_email_with_an_account_is_told_to_sign_in(api, account, team):
    grace = account("grace@example.com")
    token = invite(team, grace.email)
    response = api.post(accept_url(token), {"password": PASSWORD}, format="json")
    assert response.status_code == 409
    assert "sign in" in response.json()["detail"]
    assert not Membership.objects.filter(team=team, user=grace).exists()
    assert User.objects.filter(email=grace.email).count() == 1


def test_a_used_invitation_cannot_make_a_second_account(api, team):
    token = invite(team, "grace@example.com")
    assert api.post(accept_url(token), {"password": PASSWORD}, format="json").status_code == 201
    again = api.post(accept_url(token), {"password": PASSWORD}, format="json")
    assert again.status_code == 410
    assert User.objects.filter(email="grace@example.com").count() == 1


def test_an_expired_invitation_makes_no_account(api, team):
    token = invite(team, "grace@example.com")
    Invitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert api.post(accept_url(token), {"password": PASSWORD}, format="json").status_code == 410
    assert not User.objects.filter(email="grace@example.com").exists()


def test_a_revoked_invitation_makes_no_account(api, client_for, owner, team):
    token = invite(team, "grace@example.com")
    invitation = Invitation.objects.get(team=team)
    client_for(owner).delete(f"/api/v1/teams/{team.pk}/invitations/{invitation.pk}")
    assert api.post(accept_url(token), {"password": PASSWORD}, format="json").status_code == 410
    assert not User.objects.filter(email="grace@example.com").exists()


def test_an_unknown_token_is_404_and_makes_no_account(api):
    response = api.post(accept_url("x" * 43), {"password": PASSWORD}, format="json")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}
    assert not User.objects.exists()


def test_a_signed_in_caller_still_accepts_as_itself(client_for, account, team):
    """The wrong account (403) and a member already (409) keep their answers, whatever
    the body says: a signed-in caller never makes an account."""
    token = invite(team, "grace@example.com")
    mallory = account("mallory@example.com")
    wrong = client_for(mallory).post(accept_url(token), {"password": PASSWORD}, format="json")
    assert wrong.status_code == 403
    assert not User.objects.filter(email="grace@example.com").exists()
    grace = account("grace@example.com")
    Membership.objects.create(team=team, user=grace, role=role_of(team, "viewer"))
    already = client_for(grace).post(accept_url(token))
    assert already.status_code == 409


def test_signing_up_through_invitations_is_throttled(api, team, settings):
    base = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**base, "signup": "1/min"},
    }
    first = invite(team, "grace@example.com")
    second = invite(team, "ada@example.com")
    assert api.post(accept_url(first), {"password": PASSWORD}, format="json").status_code == 201
    response = api.post(accept_url(second), {"password": PASSWORD}, format="json")
    assert response.status_code == 429
    assert "Retry-After" in response


def test_the_signup_is_in_the_activity_log(api, team):
    token = invite(team, "grace@example.com")
    api.post(accept_url(token), {"password": PASSWORD}, format="json")
    entry = LogEntry.objects.filter(additional_data__rights="team_members").latest("pk")
    assert entry.actor == User.objects.get(email="grace@example.com")
    assert entry.additional_data["team_id"] == str(team.pk)


# Resend


@pytest.mark.usefixtures("celery_inline")
def test_resending_mails_a_new_link_and_kills_the_old_one(
    api, client_for, owner, team, django_capture_on_commit_callbacks
):
    old = invite(team, "grace@example.com")
    invitation = Invitation.objects.get(team=team)
    Invitation.objects.update(expires_at=timezone.now() + timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(owner).post(resend_url(invitation))
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "pending"
    invitation.refresh_from_db()
    assert invitation.expires_at > timezone.now() + timedelta(days=6)
    match = LINK.search(str(mail.outbox[-1].body))
    assert match is not None
    new = match.group(1)
    assert new != old
    assert api.get(f"/api/v1/invitations/{old}").status_code == 404
    assert api.post(accept_url(new), {"password": PASSWORD}, format="json").status_code == 201
    entry = LogEntry.objects.filter(additional_data__event="resent").get()
    assert entry.additional_data["invitation_id"] == str(invitation.pk)


def test_the_old_link_dies_before_the_email_goes(api, client_for, owner, team):
    old = invite(team, "grace@example.com")
    invitation = Invitation.objects.get(team=team)
    assert client_for(owner).post(resend_url(invitation)).status_code == 200
    assert api.get(f"/api/v1/invitations/{old}").status_code == 404


@pytest.mark.parametrize("state", ["accepted", "revoked", "expired"])
def test_only_a_pending_invitation_is_resent(client_for, account, owner, team, state):
    invite(team, "grace@example.com")
    invitation = Invitation.objects.get(team=team)
    now = timezone.now()
    if state == "accepted":
        Invitation.objects.update(accepted_at=now, accepted_by=account())
    elif state == "revoked":
        Invitation.objects.update(revoked_at=now)
    else:
        Invitation.objects.update(expires_at=now - timedelta(seconds=1))
    sent = len(mail.outbox)
    response = client_for(owner).post(resend_url(invitation))
    assert response.status_code == 409
    assert len(mail.outbox) == sent


def test_resending_needs_invite_members(client_for, account, team, join):
    invite(team, "grace@example.com", "admin")
    invitation = Invitation.objects.get(team=team)
    member = account()
    join(team, member, "member")
    assert client_for(member).post(resend_url(invitation)).status_code == 403
    admin = account()
    join(team, admin, "admin")
    assert client_for(admin).post(resend_url(invitation)).status_code == 200
    # An outsider does not learn the team exists; an unknown invitation id is a 404.
    assert client_for(account()).post(resend_url(invitation)).status_code == 404
    unknown = f"/api/v1/teams/{team.pk}/invitations/{team.pk}/resend"
    assert client_for(admin).post(unknown).status_code == 404


def test_an_admin_cannot_resend_an_owner_invitation(client_for, account, team, join):
    invite(team, "grace@example.com", "owner")
    invitation = Invitation.objects.get(team=team)
    admin = account()
    join(team, admin, "admin")
    assert client_for(admin).post(resend_url(invitation)).status_code == 403


def test_resending_is_throttled(client_for, owner, team, settings):
    base = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**base, "invitation": "1/min"},
    }
    invite(team, "grace@example.com")
    invitation = Invitation.objects.get(team=team)
    assert client_for(owner).post(resend_url(invitation)).status_code == 200
    assert client_for(owner).post(resend_url(invitation)).status_code == 429


def test_inviting_is_throttled(client_for, owner, team, settings):
    base = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**base, "invitation": "1/min"},
    }
    url = f"/api/v1/teams/{team.pk}/invitations"
    role = str(role_of(team, "member").pk)
    first = client_for(owner).post(url, {"email": "a@example.com", "role_id": role}, format="json")
    assert first.status_code == 201, first.content
    again = client_for(owner).post(url, {"email": "b@example.com", "role_id": role}, format="json")
    assert again.status_code == 429
    assert "Retry-After" in again
    assert Invitation.objects.filter(team=team).count() == 1
