"""Rules that must hold under concurrency, on the real database: two owners leaving at
once, one invitation accepted twice at once."""

from __future__ import annotations

import pytest

from apps.teams.models import Membership, Team
from apps.teams.services import (
    invitation_accept,
    invitation_create,
    invitation_send,
    member_remove,
    member_set_role,
    team_create,
)
from apps.users.services import user_create
from launch.errors import Conflict, Gone
from tests.conftest import PASSWORD
from tests.teams.conftest import LINK, role_of
from tests.users.test_services import run_in_threads

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_owners_leaving_at_once_leave_one_owner():
    first = user_create(email="first@example.com", password=PASSWORD)
    second = user_create(email="second@example.com", password=PASSWORD)
    team = team_create(actor=first, name="Pair")
    membership = Membership.objects.create(team=team, user=second, role=role_of(team, "member"))
    member_set_role(actor=first, team=team, membership=membership, role=role_of(team, "owner"))

    def leave(user):
        return lambda: member_remove(
            actor=user, team=team, membership=Membership.objects.get(team=team, user=user)
        )

    results = run_in_threads([leave(first), leave(second)])
    assert sum(isinstance(r, Conflict) for r in results) == 1
    assert Membership.objects.filter(team=team, role__key="owner").count() == 1


def test_one_invitation_accepted_twice_at_once_joins_once():
    from django.core import mail

    owner = user_create(email="owner@example.com", password=PASSWORD)
    grace = user_create(email="grace@example.com", password=PASSWORD)
    team = team_create(actor=owner, name="Busy")
    invitation = invitation_create(
        actor=owner, team=team, email=grace.email, role=role_of(team, "member")
    )
    assert invitation_send(invitation_id=invitation.pk)
    match = LINK.search(str(mail.outbox[-1].body))
    assert match is not None
    token = match.group(1)

    results = run_in_threads([lambda: invitation_accept(user=grace, token=token)] * 4)
    assert sum(isinstance(r, Membership) for r in results) == 1
    assert all(isinstance(r, Gone | Conflict) for r in results if not isinstance(r, Membership))
    assert Membership.objects.filter(team=team, user=grace).count() == 1
    assert Team.objects.filter(pk=team.pk).exists()
