"""Invitations: the emailed link, the landing page, accepting, and every dead end."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from apps.teams.models import Invitation, Membership, Team
from apps.teams.services.invitations import token_digest
from tests.teams.conftest import LINK, invite, role_of

pytestmark = pytest.mark.django_db


def invitations_url(team) -> str:
    return f"/api/v1/teams/{team.pk}/invitations"


def link(token: str) -> str:
    return f"/api/v1/invitations/{token}"


def test_inviting_emails_a_link_and_stores_only_its_digest(
    client_for, owner, team, celery_inline, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(owner).post(
            invitations_url(team),
            {"email": "Grace@Example.com", "role_id": str(role_of(team, "member").pk)},
            format="json",
        )
    assert response.status_code == 201
    body = response.json()
    assert body["email"] == "grace@example.com"
    assert body["state"] == "pending"
    assert body["role"]["key"] == "member"
    assert "token" not in str(body).lower()
    [message] = mail.outbox
    assert message.to == ["grace@example.com"]
    assert "Acme" in message.subject
    match = LINK.search(str(message.body))
    assert match is not None
    token = match.group(1)
    stored = Invitation.objects.get(pk=body["id"])
    assert stored.token_hash == token_digest(token)
    assert token not in str(Invitation.objects.filter(pk=body["id"]).values().get())


def test_the_landing_page_shows_team_inviter_role_and_a_masked_email(api, owner, team):
    token = invite(team, "grace@example.com", "viewer", actor=owner)
    response = api.get(link(token))  # no sign-in needed
    assert response.status_code == 200
    body = response.json()
    assert body["team_name"] == "Acme"
    assert body["invited_by"] == "Olive Owner"
    assert body["role"] == "Viewer"
    assert body["email"] == "g****@example.com"
    assert "id" not in body


def test_accepting_joins_the_team_with_the_role(client_for, account, team, owner):
    grace = account("grace@example.com")
    token = invite(team, grace.email, "admin", actor=owner)
    response = client_for(grace).post(f"{link(token)}/accept")
    assert response.status_code == 200
    assert response.json()["team"]["id"] == str(team.pk)
    assert response.json()["role"]["key"] == "admin"
    membership = Membership.objects.get(team=team, user=grace)
    assert membership.role.key == "admin"
    assert not membership.is_default  # its personal team stays the default
    assert client_for(grace).get(f"/api/v1/teams/{team.pk}").status_code == 200


def test_a_used_invitation_is_gone(client_for, account, team):
    grace = account("grace@example.com")
    token = invite(team, grace.email)
    assert client_for(grace).post(f"{link(token)}/accept").status_code == 200
    again = client_for(grace).post(f"{link(token)}/accept")
    assert again.status_code == 410
    assert again.json() == {"detail": "This invitation is no longer valid."}
    assert client_for(grace).get(link(token)).status_code == 410


def test_an_expired_invitation_is_gone(client_for, account, team):
    grace = account("grace@example.com")
    token = invite(team, grace.email)
    Invitation.objects.filter(team=team).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client_for(grace).get(link(token)).status_code == 410
    assert client_for(grace).post(f"{link(token)}/accept").status_code == 410
    assert not Membership.objects.filter(team=team, user=grace).exists()


def test_a_revoked_invitation_is_gone(client_for, owner, account, team):
    grace = account("grace@example.com")
    token = invite(team, grace.email)
    invitation = Invitation.objects.get(team=team, email=grace.email)
    response = client_for(owner).delete(f"{invitations_url(team)}/{invitation.pk}")
    assert response.status_code == 200
    assert client_for(grace).post(f"{link(token)}/accept").status_code == 410
    listed = client_for(owner).get(invitations_url(team)).json()["data"]
    assert [row["state"] for row in listed] == ["revoked"]


def test_a_new_invitation_replaces_the_pending_one(client_for, account, team):
    grace = account("grace@example.com")
    first = invite(team, grace.email, "viewer")
    second = invite(team, grace.email, "member")
    assert client_for(grace).post(f"{link(first)}/accept").status_code == 410
    assert client_for(grace).post(f"{link(second)}/accept").status_code == 200


def test_the_wrong_account_cannot_accept(client_for, account, team):
    token = invite(team, "grace@example.com")
    mallory = account("mallory@example.com")
    response = client_for(mallory).post(f"{link(token)}/accept")
    assert response.status_code == 403
    assert response.json() == {"detail": "This invitation was sent to another email address."}
    assert not Membership.objects.filter(team=team, user=mallory).exists()
    # ... and the invitation still works for the right person.
    grace = account("grace@example.com")
    assert client_for(grace).post(f"{link(token)}/accept").status_code == 200


def test_a_member_already_gets_409(client_for, account, team):
    grace = account("grace@example.com")
    token = invite(team, grace.email)
    # She became a member by another path after the invitation went out (inviting a
    # member is refused up front, so the row is made directly here).
    Membership.objects.create(team=team, user=grace, role=role_of(team, "viewer"))
    response = client_for(grace).post(f"{link(token)}/accept")
    assert response.status_code == 409
    assert response.json() == {"detail": "This person is already a member of the team."}
    assert Membership.objects.get(team=team, user=grace).role.key == "viewer"


def test_inviting_a_member_is_409(client_for, owner, team):
    response = client_for(owner).post(
        invitations_url(team),
        {"email": owner.email, "role_id": str(role_of(team, "member").pk)},
        format="json",
    )
    assert response.status_code == 409


@pytest.mark.parametrize("token", ["x" * 43, "short", "has.dots.in.it.and.is.long.enough"])
def test_unknown_tokens_are_404_and_name_nothing(api, client_for, account, token):
    assert api.get(link(token)).json() == {"detail": "Not found."}
    assert api.get(link(token)).status_code == 404
    assert client_for(account()).post(f"{link(token)}/accept").status_code == 404


def test_accepting_needs_a_signed_in_user(api, team):
    token = invite(team, "grace@example.com")
    assert api.post(f"{link(token)}/accept").status_code == 401


def test_who_may_invite(client_for, team, account, join):
    admin, member = account(), account()
    join(team, admin, "admin")
    join(team, member, "member")
    body = {"email": "new@example.com", "role_id": str(role_of(team, "member").pk)}
    assert client_for(member).post(invitations_url(team), body, format="json").status_code == 403
    assert client_for(member).get(invitations_url(team)).status_code == 403
    assert client_for(admin).post(invitations_url(team), body, format="json").status_code == 201
    as_owner = {**body, "role_id": str(role_of(team, "owner").pk)}
    refused = client_for(admin).post(invitations_url(team), as_owner, format="json")
    assert refused.status_code == 403  # an admin cannot make owners, by invitation either


def test_revoking_an_accepted_invitation_is_409(client_for, owner, account, team, join):
    grace = account()
    join(team, grace)
    invitation = Invitation.objects.get(team=team, email=grace.email)
    response = client_for(owner).delete(f"{invitations_url(team)}/{invitation.pk}")
    assert response.status_code == 409


def test_invitations_of_another_team_are_404(client_for, owner, team, account):
    other_owner = account()
    invite(team, "grace@example.com")
    invitation = Invitation.objects.get(team=team)
    theirs = Team.objects.get(owner=other_owner, is_personal=True)
    response = client_for(other_owner).delete(f"{invitations_url(theirs)}/{invitation.pk}")
    assert response.status_code == 404
    assert Invitation.objects.get(pk=invitation.pk).revoked_at is None


def test_an_international_address_is_invited_and_accepted(client_for, account, team):
    zoe = account("zoe@exämple.com")
    token = invite(team, zoe.email)
    assert client_for(zoe).post(f"{link(token)}/accept").status_code == 200
    assert client_for(account("zoe@example.com")).get(link(token)).status_code == 410


def test_a_team_name_with_line_breaks_stays_out_of_the_subject(owner):
    from apps.teams.services import team_create

    team = team_create(actor=owner, name="Acme\r\nBcc: victim@example.com")
    invite(team, "grace@example.com")
    assert "\n" not in mail.outbox[-1].subject
    assert mail.outbox[-1].bcc == []
