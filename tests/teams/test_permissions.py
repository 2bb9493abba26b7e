"""The permission matrix of the team routes: anonymous, an outsider, each default role,
and a superuser who is not a member."""

from __future__ import annotations

import itertools

import pytest
from rest_framework.test import APIClient

from tests.teams.conftest import role_of

pytestmark = pytest.mark.django_db

WHO = ("anonymous", "outsider", "viewer", "member", "admin", "owner", "superuser")
_seq = itertools.count()

# (method, path under /teams/{id}, body maker) -> status per WHO
MATRIX = {
    ("get", "", None): (401, 404, 200, 200, 200, 200, 200),
    ("patch", "", "rename"): (401, 404, 403, 403, 200, 200, 200),
    ("delete", "", None): (401, 404, 403, 403, 403, 200, 200),
    ("get", "/members", None): (401, 404, 200, 200, 200, 200, 200),
    ("get", "/roles", None): (401, 404, 200, 200, 200, 200, 200),
    ("post", "/roles", "role"): (401, 404, 403, 403, 201, 201, 201),
    ("get", "/permissions", None): (401, 404, 200, 200, 200, 200, 200),
    ("get", "/invitations", None): (401, 404, 403, 403, 200, 200, 200),
    ("post", "/invitations", "invitation"): (401, 404, 403, 403, 201, 201, 201),
}


def body(kind, team):
    n = next(_seq)
    return {
        None: None,
        "rename": {"name": f"Renamed {n}"},
        "role": {"name": f"Role {n}", "permissions": ["teams.view_team"]},
        "invitation": {
            "email": f"guest{n}@example.com",
            "role_id": str(role_of(team, "member").pk),
        },
    }[kind]


@pytest.fixture
def people(owner, team, account, join, superuser):
    crew = {"owner": owner, "outsider": account(), "superuser": superuser}
    for key in ("viewer", "member", "admin"):
        crew[key] = account()
        join(team, crew[key], key)
    return crew


CASES = [
    pytest.param((route, who, statuses[index]), id=f"{route[0]} {route[1] or '/'} as {who}")
    for route, statuses in MATRIX.items()
    for index, who in enumerate(WHO)
]


@pytest.mark.parametrize("case", CASES)
def test_matrix(client_for, team, people, case):
    (method, suffix, kind), who, expected = case
    client = APIClient() if who == "anonymous" else client_for(people[who])
    data = body(kind, team)
    url = f"/api/v1/teams/{team.pk}{suffix}"
    call = getattr(client, method)
    response = call(url, data, format="json") if data else call(url)
    assert response.status_code == expected, response.json()
