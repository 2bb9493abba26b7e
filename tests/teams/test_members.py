"""Members: role changes without escalation, removal, leaving, and the last-owner rule."""

from __future__ import annotations

import pytest
from auditlog.models import LogEntry

from apps.teams.models import Membership, Team
from tests.teams.conftest import role_of

pytestmark = pytest.mark.django_db


def url(team: Team, user=None) -> str:
    base = f"/api/v1/teams/{team.pk}/members"
    return f"{base}/{user.pk}" if user is not None else base


def set_role(client, team, user, key):
    return client.patch(url(team, user), {"role_id": str(role_of(team, key).pk)}, format="json")


@pytest.fixture
def crew(team, account, join):
    """Acme's people beside its owner: an admin, a member and a viewer."""
    people = {key: account() for key in ("admin", "member", "viewer")}
    for key, user in people.items():
        join(team, user, key)
    return people


def test_members_list(client_for, owner, team, crew):
    body = client_for(crew["viewer"]).get(url(team)).json()
    assert body["count"] == 4
    first = body["data"][0]
    assert first["user_id"] == str(owner.pk)
    assert first["email"] == owner.email
    assert first["role"]["key"] == "owner"


def test_a_member_cannot_promote_itself(client_for, team, crew):
    member = crew["member"]
    response = set_role(client_for(member), team, member, "admin")
    assert response.status_code == 403
    assert Membership.objects.get(team=team, user=member).role.key == "member"


def test_an_admin_cannot_make_owners_unless_owner(client_for, team, crew):
    admin = client_for(crew["admin"])
    response = set_role(admin, team, crew["member"], "owner")
    assert response.status_code == 403
    assert "owners" in response.json()["detail"]
    assert set_role(admin, team, crew["admin"], "owner").status_code == 403  # nor itself


def test_an_admin_cannot_demote_or_remove_an_owner(client_for, owner, team, crew):
    admin = client_for(crew["admin"])
    assert set_role(admin, team, owner, "viewer").status_code == 403
    assert admin.delete(url(team, owner)).status_code == 403
    assert Membership.objects.get(team=team, user=owner).role.key == "owner"


def test_an_admin_manages_roles_below_owner(client_for, team, crew):
    admin = client_for(crew["admin"])
    response = set_role(admin, team, crew["viewer"], "member")
    assert response.status_code == 200
    assert response.json()["role"]["key"] == "member"
    assert set_role(admin, team, crew["member"], "admin").status_code == 200


def test_an_owner_makes_owners(client_for, owner, team, crew):
    assert set_role(client_for(owner), team, crew["admin"], "owner").status_code == 200


def test_a_viewer_cannot_remove_anyone(client_for, team, crew):
    assert client_for(crew["viewer"]).delete(url(team, crew["member"])).status_code == 403


def test_role_changes_are_recorded(client_for, owner, team, crew):
    set_role(client_for(owner), team, crew["viewer"], "member")
    entry = LogEntry.objects.filter(additional_data__rights="team_roles").latest("timestamp")
    assert entry.actor_id == owner.pk
    assert entry.object_pk == str(team.pk)
    assert entry.changes_dict == {f"role of {crew['viewer'].email}": ["Viewer", "Member"]}


def test_a_role_id_from_another_team_is_404(client_for, owner, team, crew):
    personal = Team.objects.get(owner=owner, is_personal=True)
    response = client_for(owner).patch(
        url(team, crew["member"]),
        {"role_id": str(role_of(personal, "admin").pk)},
        format="json",
    )
    assert response.status_code == 404


def test_the_last_owner_cannot_leave_or_be_demoted(client_for, owner, team, crew):
    client = client_for(owner)
    left = client.delete(url(team, owner))
    assert left.status_code == 409
    assert "needs an owner" in left.json()["detail"]
    assert set_role(client, team, owner, "admin").status_code == 409
    assert Membership.objects.get(team=team, user=owner).role.key == "owner"


def test_with_a_second_owner_the_first_may_leave(client_for, owner, team, crew):
    set_role(client_for(owner), team, crew["admin"], "owner")
    response = client_for(owner).delete(url(team, owner))
    assert response.status_code == 200
    team.refresh_from_db()
    assert team.owner_id == crew["admin"].pk  # the founder's column follows ownership
    assert not Membership.objects.filter(team=team, user=owner).exists()
    # and the new last owner is held to the rule
    assert client_for(crew["admin"]).delete(url(team, crew["admin"])).status_code == 409


def test_a_personal_teams_founder_stays_its_owner(client_for, owner, account, join):
    personal = Team.objects.get(owner=owner, is_personal=True)
    friend = account()
    join(personal, friend, "owner")
    client = client_for(owner)
    assert client.delete(url(personal, owner)).status_code == 409
    assert set_role(client, personal, owner, "admin").status_code == 409


def test_anyone_may_leave(client_for, team, crew):
    viewer = crew["viewer"]
    response = client_for(viewer).delete(url(team, viewer))
    assert response.status_code == 200
    assert response.json() == {"message": "Member removed successfully"}
    assert client_for(viewer).get(f"/api/v1/teams/{team.pk}").status_code == 404


def test_removing_an_unknown_member_is_404(client_for, owner, team, account):
    outsider = account()
    assert client_for(owner).delete(url(team, outsider)).status_code == 404
    assert client_for(owner).delete(f"{url(team)}/not-a-uuid").status_code == 404


def test_deleting_the_last_owners_account_hands_the_team_on(owner, team, crew):
    from apps.users.services import user_delete

    user_delete(user=owner)
    team.refresh_from_db()
    heir = Membership.objects.get(team=team, user=crew["admin"])
    assert heir.role.key == "owner"
    assert team.owner_id == crew["admin"].pk
    assert not Team.objects.filter(is_personal=True, owner_id=owner.pk).exists()


def test_deleting_an_account_deletes_the_teams_it_alone_is_in(owner, team):
    from apps.users.services import user_delete

    user_delete(user=owner)
    assert not Team.objects.filter(pk=team.pk).exists()


def test_members_of_a_deleted_users_personal_team_fall_back_to_their_own(owner, account, join):
    from apps.users.services import user_delete

    personal = Team.objects.get(owner=owner, is_personal=True)
    guest = account()
    Membership.objects.filter(user=guest).update(is_default=False)
    assert join(personal, guest).is_default
    user_delete(user=owner)
    assert not Team.objects.filter(pk=personal.pk).exists()
    fallback = Membership.objects.get(user=guest, is_default=True)
    assert fallback.team.is_personal
    assert fallback.team.owner_id == guest.pk


def test_member_add_is_for_the_system_and_managers_who_hold_the_role(team, owner, account, join):
    from apps.rbac.rights import Refused
    from apps.teams.services import member_add
    from launch.errors import Conflict
    from tests.teams.conftest import role_of

    guest, colleague = account(), account()
    join(team, colleague, "member")
    with pytest.raises(Refused):  # a member does not manage members
        member_add(actor=colleague, team=team, user=guest, role=role_of(team, "guest"))
    added = member_add(actor=None, team=team, user=guest, role=role_of(team, "guest"))
    assert (added.role.key, added.is_default) == ("guest", False)
    with pytest.raises(Conflict):
        member_add(actor=owner, team=team, user=guest, role=role_of(team, "viewer"))
