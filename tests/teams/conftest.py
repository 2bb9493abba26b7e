"""Teams built through the services: accounts from `user_create` (so they have their
personal team), teams from `team_create`, members who joined by invitation."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail

from apps.teams.models import Membership, Team, TeamRole
from apps.teams.services import invitation_accept, invitation_create, invitation_send, team_create
from apps.users.models import User
from apps.users.services import user_create
from tests.conftest import PASSWORD

_seq = itertools.count()
LINK = re.compile(r"invitations\?token=([A-Za-z0-9_-]+)")


@pytest.fixture
def account(db: Any) -> Callable[..., User]:
    """`account()`: a user made as signup makes one (with its personal team)."""

    def make(email: str | None = None, full_name: str = "") -> User:
        return user_create(
            email=email or f"teams{next(_seq)}@example.com", password=PASSWORD, full_name=full_name
        )

    return make


@pytest.fixture
def owner(account: Callable[..., User]) -> User:
    return account(full_name="Olive Owner")


@pytest.fixture
def team(owner: User) -> Team:
    return team_create(actor=owner, name="Acme")


def role_of(team: Team, key: str) -> TeamRole:
    return TeamRole.objects.get(team=team, key=key)


def invite(team: Team, email: str, key: str = "member", actor: User | None = None) -> str:
    """Invite `email` through the services and return the token the email carried."""
    invitation = invitation_create(actor=actor, team=team, email=email, role=role_of(team, key))
    before = len(mail.outbox)
    assert invitation_send(invitation_id=invitation.pk)
    assert len(mail.outbox) == before + 1
    match = LINK.search(str(mail.outbox[-1].body))
    assert match is not None
    return match.group(1)


@pytest.fixture
def join() -> Callable[..., Membership]:
    """`join(team, user, "admin")`: the user accepts an invitation with that role."""

    def make(team: Team, user: User, key: str = "member") -> Membership:
        return invitation_accept(user=user, token=invite(team, user.email, key))

    return make
