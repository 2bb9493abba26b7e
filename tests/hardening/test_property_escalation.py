"""Promise 6 as a stateful property: random sequences of API calls by users with
different roles (object creation, shares and revocations, roles created and given
permissions, members added and removed, roles deleted, flags and roles set on users)
never leave anyone with a right the acting user did not hold.

Two checks after every step:

1. The database equals a reference model that applies Launch's written rules (README,
   "Security") to the allowed operations: memberships, role permissions, users' own
   permissions, staff and superuser flags, and every object grant with its granter.
2. Independently of those rules, no principal (user or role) gained a right, counted
   as an atom (a model permission, an action on an object, a flag), that the acting
   non-superuser did not hold before the step. Rights on objects the step created are
   the creator's by definition and not counted.

Driven through the API with bearer tokens. Bounded: a fixed number of sequences and
steps, from a fixed seed (printed; set LAUNCH_PROPERTY_SEED to replay or explore).
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)
from rest_framework.test import APIClient

from apps.items.models import Item
from apps.projects.models import Project
from apps.rbac.services import role_create, user_set_roles
from apps.users.models import User
from launch.permissions import OBJECT_ACTIONS, normalize_actions, perm_models
from tests.conftest import PASSWORD, bearer
from tests.factories import Lab, roles
from tests.support.reliability import record
from tests.support.stateful import run_seeded

__all__ = ["roles"]

pytestmark = [pytest.mark.property, pytest.mark.promise(6), pytest.mark.django_db]


KINDS = {"item": (Item, "items", "item"), "project": (Project, "projects", "project")}
# What roles are built from in this world: enough to express every escalation found in
# review (role management, sharing, users' accounts) without drowning the search.
POOL = (
    "items.add_item",
    "items.view_item",
    "items.change_item",
    "items.delete_item",
    "items.share_item",
    "projects.add_project",
    "projects.view_project",
    "projects.share_project",
    "auth.view_group",
    "auth.add_group",
    "auth.change_group",
    "auth.delete_group",
    "users.change_user",
)
MANAGER = ("auth.view_group", "auth.add_group", "auth.change_group", "auth.delete_group")
# name -> the roles it starts with (default ones by name, custom ones defined below)
CAST = {
    "root": None,  # superuser
    "alice": ["member"],
    "bob": ["member"],
    "carol": ["viewer"],
    "dave": ["managers", "member"],
    "erin": ["managers", "viewer"],
    "frank": ["editors"],
}
CUSTOM = {
    "managers": MANAGER,
    "editors": ("items.view_item", "items.change_item", "items.share_item", "items.add_item"),
}
_names = itertools.count()

Principal = tuple[str, Any]  # ("u", user id) or ("r", role id)


@dataclass
class World:
    """The reference model: what the rules say the database holds."""

    everything: set[str]  # the whole permission catalog (a superuser's)
    superusers: set[Any] = field(default_factory=set)
    staff: set[Any] = field(default_factory=set)
    member_of: dict[Any, set[int]] = field(default_factory=dict)
    role_perms: dict[int, set[str]] = field(default_factory=dict)
    role_names: dict[int, str] = field(default_factory=dict)
    owner: dict[Any, Any] = field(default_factory=dict)
    kind: dict[Any, str] = field(default_factory=dict)
    grants: dict[tuple[Any, Principal], dict[str, Any]] = field(default_factory=dict)

    def perms(self, user: Any) -> set[str]:
        if user in self.superusers:
            return set(self.everything)
        return set().union(*(self.role_perms[r] for r in self.member_of[user]))

    def held(self, user: Any, obj: Any) -> set[str]:
        if user in self.superusers:
            return set(OBJECT_ACTIONS)
        principals = [("u", user), *(("r", r) for r in self.member_of[user])]
        return set().union(*(self.grants.get((obj, p), {}).keys() for p in principals))

    def dominates(self, user: Any, role: int) -> bool:
        if user in self.superusers:
            return True
        if not self.role_perms[role] <= self.perms(user):
            return False
        return all(
            set(actions) <= self.held(user, obj)
            for (obj, principal), actions in self.grants.items()
            if principal == ("r", role)
        )

    def snapshot(self) -> dict[str, Any]:
        return {
            "members": {(u, r) for u, rs in self.member_of.items() for r in rs},
            "role_perms": {(r, p) for r, ps in self.role_perms.items() for p in ps},
            "roles": set(self.role_perms),
            "user_perms": set(),
            "flags": {(u, u in self.staff, u in self.superusers) for u in self.member_of},
            "grants": {
                (obj, principal, action, granter)
                for (obj, principal), actions in self.grants.items()
                for action, granter in actions.items()
            },
        }


def db_snapshot(users: list[Any]) -> dict[str, Any]:
    """The same shape as `World.snapshot`, read from the database."""
    through = User.groups.through.objects.filter(user_id__in=users)
    role_perm_rows = Group.permissions.through.objects.values_list(
        "group_id", "permission__content_type__app_label", "permission__codename"
    )
    grants = set()
    for model, _, name in KINDS.values():
        user_model, group_model = perm_models(model)
        for tag, perm_model, column in (
            ("u", user_model, "user_id"),
            ("r", group_model, "group_id"),
        ):
            rows = perm_model.objects.values_list(
                "content_object_id", column, "permission__codename", "granted_by_id"
            )
            grants |= {
                (obj, (tag, principal), code.removesuffix(f"_{name}"), granter)
                for obj, principal, code, granter in rows
            }
    return {
        "members": set(through.values_list("user_id", "group_id")),
        "role_perms": {(r, f"{app}.{code}") for r, app, code in role_perm_rows},
        "roles": set(Group.objects.values_list("pk", flat=True)),
        "user_perms": set(
            User.user_permissions.through.objects.filter(user_id__in=users).values_list(
                "user_id", "permission_id"
            )
        ),
        "flags": set(
            User.objects.filter(pk__in=users).values_list("pk", "is_staff", "is_superuser")
        ),
        "grants": grants,
    }


def atoms(snap: dict[str, Any], everything: set[str]) -> dict[Principal, set[tuple]]:
    """Every principal's rights as atoms, derived from a snapshot with no knowledge of
    Launch's rules: what a user can do (its own, its roles', everything if superuser)
    and what a role carries."""
    role_perms: dict[int, set[str]] = {}
    for role, perm in snap["role_perms"]:
        role_perms.setdefault(role, set()).add(perm)
    grants: dict[Principal, set[tuple]] = {}
    for obj, principal, action, _ in snap["grants"]:
        grants.setdefault(principal, set()).add(("obj", obj, action))
    members: dict[Any, set[int]] = {}
    for user, role in snap["members"]:
        members.setdefault(user, set()).add(role)
    result: dict[Principal, set[tuple]] = {}
    for role in snap["roles"]:
        result[("r", role)] = {("perm", p) for p in role_perms.get(role, ())} | grants.get(
            ("r", role), set()
        )
    objects = {obj for obj, *_ in snap["grants"]}
    for user, staff, superuser in snap["flags"]:
        held: set[tuple]
        if superuser:
            held = {("perm", p) for p in everything}
            held |= {("obj", o, a) for o in objects for a in OBJECT_ACTIONS}
            held |= {("flag", "is_superuser"), ("flag", "is_staff")}
        else:
            held = set(grants.get(("u", user), set()))
            for role in members.get(user, ()):
                held |= result.get(("r", role), set())
            if staff:
                held.add(("flag", "is_staff"))
        result[("u", user)] = held
    return result


class EscalationMachine(RuleBasedStateMachine):
    # Set by the test: the default roles and the run's counters.
    default_roles: dict[str, Group]
    totals: dict[str, int]

    def __init__(self) -> None:
        super().__init__()
        self.savepoint = transaction.savepoint()
        self.steps = 0
        self.refused = 0
        self.gained = 0

    def teardown(self) -> None:
        transaction.savepoint_rollback(self.savepoint)
        self.totals["sequences"] += 1
        self.totals["steps"] += self.steps
        self.totals["refused"] += self.refused
        self.totals["gained"] += self.gained

    # --- the world --------------------------------------------------------------------

    @initialize()
    def cast(self) -> None:
        catalog = Permission.objects.select_related("content_type")
        everything = {f"{p.content_type.app_label}.{p.codename}" for p in catalog}
        self.world = World(everything=everything)
        roles = dict(self.default_roles)
        for name, permissions in CUSTOM.items():
            roles[name] = role_create(
                actor=None, name=f"{name}-{next(_names)}", permissions=permissions
            )
        for role in Group.objects.prefetch_related("permissions__content_type"):
            self.world.role_perms[role.pk] = {
                f"{p.content_type.app_label}.{p.codename}" for p in role.permissions.all()
            }
            self.world.role_names[role.pk] = role.name
        self.users: dict[str, User] = {}
        self.clients: dict[Any, APIClient] = {}
        # Everyone works in one team whose role adds nothing to the grants: this machine
        # is about global roles and sharing (teams: tests/teams/test_property_teams.py).
        lab = Lab()
        for name, held in CAST.items():
            email = f"{name}{next(_names)}@example.com"
            if held is None:
                user = User.objects.create_superuser(email=email, password=PASSWORD)
                self.world.superusers.add(user.pk)
                self.world.staff.add(user.pk)
            else:
                user = User.objects.create_user(email=email, password=PASSWORD)
            user_set_roles(actor=None, user=user, roles=[roles[r] for r in held or ()])
            lab.join(user)
            self.world.member_of[user.pk] = {roles[r].pk for r in held or ()}
            self.users[name] = user
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=bearer(user))
            self.clients[user.pk] = client
        self.user_ids = [user.pk for user in self.users.values()]
        self.current = db_snapshot(self.user_ids)

    def _actor(self, data: st.DataObject, likely: list[Any] | None = None) -> Any:
        """Anyone, or (half the time, when given) someone the rules may let through, so
        sequences go deep instead of bouncing off the first refusal."""
        anyone = st.sampled_from(self.user_ids)
        if likely:
            return data.draw(st.one_of(st.sampled_from(likely), anyone))
        return data.draw(anyone, label="actor")

    # Users in cast order, roles by id (creation order): stable across runs.
    def _holders(self, obj: Any, action: str) -> list[Any]:
        return [u for u in self.user_ids if action in self.world.held(u, obj)]

    def _managers(self) -> list[Any]:
        return [u for u in self.user_ids if "auth.change_group" in self.world.perms(u)]

    def _role(self, data: st.DataObject, attacker: Any = None) -> int:
        """Any role, or (half the time, given an attacker) one carrying rights the
        attacker lacks: the roles worth trying to join, fill or empty."""
        anyone = st.sampled_from(sorted(self.world.role_perms))
        if attacker is None:
            return data.draw(anyone, label="role")
        stronger = [
            r for r in sorted(self.world.role_perms) if not self.world.dominates(attacker, r)
        ]
        if stronger:
            return data.draw(st.one_of(st.sampled_from(stronger), anyone), label="role")
        return data.draw(anyone, label="role")

    def _object(self, data: st.DataObject) -> Any:
        # Creation order, never UUID order: the same choices must pick the same object in
        # every run, or Hypothesis cannot replay (and shrink) a sequence.
        return data.draw(st.sampled_from(list(self.world.owner)), label="object")

    def _step(self, actor: Any, call: Any, allowed: bool, apply: Any = None) -> Any:
        """Run one API call, check it was allowed exactly when the rules say so, apply
        the change to the reference model, and count rights gained past the actor's."""
        before = self.current
        response = call(self.clients[actor])
        self.steps += 1
        ok = 200 <= response.status_code < 300
        assert response.status_code < 500, response.content
        assert ok == allowed, (response.status_code, response.content)
        if not ok:
            self.refused += 1
        created = apply(response) if ok and apply else None
        self.current = db_snapshot(self.user_ids)  # what the invariant compares, too
        self._count_gains(actor, before, self.current, created)
        return response

    def _count_gains(self, actor: Any, before: dict, after: dict, created: Any) -> None:
        everything = self.world.everything
        held_before, held_after = atoms(before, everything), atoms(after, everything)
        actor_held = held_before.get(("u", actor), set())
        actor_is_root = any(u == actor and su for u, _, su in before["flags"])
        for principal, rights in held_after.items():
            new = rights - held_before.get(principal, set())
            new = {a for a in new if not (a[0] == "obj" and a[1] == created)}
            gained = set() if actor_is_root else new - actor_held
            self.gained += len(gained)
            assert not gained, f"{principal} gained {gained} from {actor}"

    # --- rules: objects -----------------------------------------------------------------

    @rule(data=st.data(), kind=st.sampled_from(sorted(KINDS)))
    def create_object(self, data: st.DataObject, kind: str) -> None:
        actor = self._actor(data)
        _, app, name = KINDS[kind]
        allowed = f"{app}.add_{name}" in self.world.perms(actor)
        body = {"title": "t"} if kind == "item" else {"name": "p"}

        def apply(response: Any) -> Any:
            obj = uuid.UUID(response.json()["id"])
            self.world.owner[obj], self.world.kind[obj] = actor, kind
            self.world.grants[(obj, ("u", actor))] = dict.fromkeys(OBJECT_ACTIONS)
            return obj

        self._step(actor, lambda c: c.post(f"/api/v1/{app}", body, format="json"), allowed, apply)

    @precondition(lambda self: bool(self.world.owner))
    @rule(data=st.data())
    def delete_object(self, data: st.DataObject) -> None:
        obj = self._object(data)
        actor = self._actor(data, self._holders(obj, "delete"))
        _, app, name = KINDS[self.world.kind[obj]]
        allowed = f"{app}.delete_{name}" in self.world.perms(actor) and "delete" in (
            self.world.held(actor, obj)
        )

        def apply(response: Any) -> None:
            del self.world.owner[obj], self.world.kind[obj]
            for key in [key for key in self.world.grants if key[0] == obj]:
                del self.world.grants[key]

        self._step(actor, lambda c: c.delete(f"/api/v1/{app}/{obj}"), allowed, apply)

    @precondition(lambda self: bool(self.world.owner))
    @rule(
        data=st.data(),
        actions=st.frozensets(st.sampled_from(OBJECT_ACTIONS)),
        to_role=st.booleans(),
    )
    def share(self, data: st.DataObject, actions: frozenset[str], to_role: bool) -> None:
        obj = self._object(data)
        actor = self._actor(data, self._holders(obj, "share"))
        w = self.world
        principal: Principal = (
            ("r", self._role(data)) if to_role else ("u", data.draw(st.sampled_from(self.user_ids)))
        )
        _, app, name = KINDS[w.kind[obj]]
        root = actor in w.superusers
        held = w.held(actor, obj)
        wanted = normalize_actions(actions)
        current = w.grants.get((obj, principal), {})
        added, removed = wanted - current.keys(), current.keys() - wanted
        change = True
        if not root and (f"{app}.share_{name}" not in w.perms(actor) or "share" not in held):
            allowed = False
        elif principal == ("u", actor):
            allowed, change = True, False  # your own grants: a no-op
        elif principal == ("u", w.owner[obj]):
            allowed = False  # nobody changes the owner's grants
        elif not added and not removed:
            allowed, change = True, False
        elif root:
            allowed = True
        else:
            is_owner = actor == w.owner[obj]
            allowed = (
                (principal[0] == "u" or is_owner or "auth.change_group" in w.perms(actor))
                and added <= held
                and (is_owner or all(current[a] == actor for a in removed))
            )

        def apply(response: Any) -> None:
            if not change:
                return
            kept = {a: current.get(a, actor) for a in wanted}
            if kept:
                w.grants[(obj, principal)] = kept
            else:
                w.grants.pop((obj, principal), None)

        payload: dict[str, Any] = {"permissions": sorted(actions)}
        if principal[0] == "u":
            payload["user_id"] = str(principal[1])
        else:
            payload["role_id"] = principal[1]
        self._step(
            actor,
            lambda c: c.put(f"/api/v1/{app}/{obj}/shares", payload, format="json"),
            allowed,
            apply,
        )

    # --- rules: roles -------------------------------------------------------------------

    def _may(self, actor: Any, permission: str) -> bool:
        return permission in self.world.perms(actor)

    @rule(data=st.data(), permissions=st.frozensets(st.sampled_from(POOL), max_size=5))
    def create_role(self, data: st.DataObject, permissions: frozenset[str]) -> None:
        actor = self._actor(data, self._managers())
        w = self.world
        allowed = self._may(actor, "auth.add_group") and permissions <= w.perms(actor)
        name = f"role-{next(_names)}"

        def apply(response: Any) -> None:
            role = response.json()["id"]
            w.role_perms[role], w.role_names[role] = set(permissions), name

        body = {"name": name, "permissions": sorted(permissions)}
        self._step(actor, lambda c: c.post("/api/v1/roles", body, format="json"), allowed, apply)

    @rule(data=st.data(), permissions=st.frozensets(st.sampled_from(POOL), max_size=5))
    def set_role_permissions(self, data: st.DataObject, permissions: frozenset[str]) -> None:
        actor = self._actor(data, self._managers())
        role = self._role(data, attacker=actor)
        w = self.world
        allowed = (
            self._may(actor, "auth.change_group")
            and w.dominates(actor, role)
            and permissions <= w.perms(actor)
        )

        def apply(response: Any) -> None:
            w.role_perms[role] = set(permissions)

        body = {"permissions": sorted(permissions)}
        self._step(
            actor, lambda c: c.patch(f"/api/v1/roles/{role}", body, format="json"), allowed, apply
        )

    @rule(data=st.data(), add=st.booleans())
    def change_membership(self, data: st.DataObject, add: bool) -> None:
        actor = self._actor(data, self._managers())
        role = self._role(data, attacker=actor)
        user = data.draw(st.sampled_from(self.user_ids), label="member")
        w = self.world
        allowed = self._may(actor, "auth.change_group") and w.dominates(actor, role)
        if not add:
            allowed = allowed and role in w.member_of[user]  # else 404

        def apply(response: Any) -> None:
            (w.member_of[user].add if add else w.member_of[user].discard)(role)

        url = f"/api/v1/roles/{role}/members"
        if add:
            call = lambda c: c.post(url, {"user_id": str(user)}, format="json")  # noqa: E731
        else:
            call = lambda c: c.delete(f"{url}/{user}")  # noqa: E731
        self._step(actor, call, allowed, apply)

    @rule(data=st.data())
    def delete_role(self, data: st.DataObject) -> None:
        actor = self._actor(data, self._managers())
        role = self._role(data, attacker=actor)
        w = self.world
        allowed = (
            self._may(actor, "auth.delete_group")
            and w.role_names[role] != "member"  # the default role: 409
            and w.dominates(actor, role)
        )

        def apply(response: Any) -> None:
            del w.role_perms[role], w.role_names[role]
            for roles_held in w.member_of.values():
                roles_held.discard(role)
            for key in [key for key in w.grants if key[1] == ("r", role)]:
                del w.grants[key]

        self._step(actor, lambda c: c.delete(f"/api/v1/roles/{role}"), allowed, apply)

    # --- rules: users' flags and roles -------------------------------------------------

    @rule(
        data=st.data(),
        flag=st.sampled_from(("is_staff", "is_superuser", "roles")),
        value=st.booleans(),
    )
    def patch_user(self, data: st.DataObject, flag: str, value: bool) -> None:
        actor = self._actor(data)
        user = data.draw(st.sampled_from(self.user_ids), label="user")
        w = self.world
        allowed = actor in w.superusers
        roles: set[int] = set()
        if flag == "roles":
            roles = set(data.draw(st.sets(st.sampled_from(sorted(w.role_perms)), max_size=2)))
            body: dict[str, Any] = {"roles": sorted(roles)}
        else:
            body = {flag: value}

        def apply(response: Any) -> None:
            if flag == "roles":
                w.member_of[user] = set(roles)
            else:
                target = w.staff if flag == "is_staff" else w.superusers
                (target.add if value else target.discard)(user)

        self._step(
            actor,
            lambda c: c.patch(f"/api/v1/users/{user}", body, format="json"),
            allowed,
            apply,
        )

    # --- the invariant ----------------------------------------------------------------

    @invariant()
    def database_matches_the_rules(self) -> None:
        assert self.current == self.world.snapshot()


def test_no_sequence_of_api_calls_escalates(roles, capsys):
    totals = {"sequences": 0, "steps": 0, "refused": 0, "gained": 0}
    machine = type("Machine", (EscalationMachine,), {"default_roles": roles, "totals": totals})
    try:
        run_seeded(machine, name="escalation", capsys=capsys)
    finally:
        record("escalation sequences tried", totals["sequences"])
        record("escalation steps tried", totals["steps"])
        record("escalation steps refused", totals["refused"])
        record("rights gained", totals["gained"])
        with capsys.disabled():
            print(
                f"escalation property: {totals['sequences']} sequences, {totals['steps']} "
                f"steps ({totals['refused']} refused), rights gained: {totals['gained']}"
            )
    assert totals["gained"] == 0
