"""A key never holds more than its creator, as a stateful property: random sequences of
keys created with random scopes, creators' roles replaced, a role's permissions changed
and keys revoked (rights change only through the rbac services, as in production), with
every key probed after every step.

The invariant, checked through the API on four read endpoints: a key's request is
answered 200 exactly when its scopes name the endpoint's permission and its creator
holds that permission at that moment, 403 otherwise, and 401 once the key is revoked.
Creating a key is allowed (201) exactly when the creator holds every scope asked for.

Bounded: a fixed number of sequences and steps from a fixed seed (printed; set
LAUNCH_PROPERTY_SEED to replay or explore).
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.db import transaction
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
)
from rest_framework.test import APIClient

from apps.rbac.rights import stored_model_permissions
from apps.rbac.services import role_create, role_update, user_set_roles
from apps.users.models import User
from tests.conftest import PASSWORD, bearer
from tests.factories import roles
from tests.support.reliability import record
from tests.support.stateful import run_seeded

__all__ = ["roles"]

pytestmark = [pytest.mark.property, pytest.mark.promise(6), pytest.mark.django_db]


# A permission, and a read that needs exactly it at the model layer.
PROBES = {
    "items.view_item": "/api/v1/items/",
    "projects.view_project": "/api/v1/projects",
    "tags.view_tag": "/api/v1/tags/",
    "auth.view_group": "/api/v1/roles/",
}
POOL = sorted(PROBES)
CAST = ("member", "viewer", "custom", None, "root")  # None: no role at all
ROLE_NAMES = ("member", "viewer", "custom")
_names = itertools.count()


class KeyMachine(RuleBasedStateMachine):
    default_roles: dict[str, Group]
    totals: dict[str, int]

    def __init__(self) -> None:
        super().__init__()
        self.savepoint = transaction.savepoint()

    def teardown(self) -> None:
        transaction.savepoint_rollback(self.savepoint)
        self.totals["sequences"] += 1

    @initialize()
    def cast(self) -> None:
        self.roles = dict(self.default_roles)
        self.roles["custom"] = role_create(
            actor=None, name=f"custom-{next(_names)}", permissions=["items.view_item"]
        )
        self.users: list[User] = []
        self.clients: dict[Any, APIClient] = {}
        for held in CAST:
            email = f"keys{next(_names)}@example.com"
            if held == "root":
                user = User.objects.create_superuser(email=email, password=PASSWORD)
            else:
                user = User.objects.create_user(email=email, password=PASSWORD)
                user_set_roles(actor=None, user=user, roles=[self.roles[held]] if held else [])
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=bearer(user))
            self.users.append(user)
            self.clients[user.pk] = client
        # (id, user, scopes, raw, revoked), in creation order
        self.keys: list[dict[str, Any]] = []

    def _holds(self, user: User) -> set[str]:
        user.refresh_from_db(fields=["is_superuser"])
        return set(POOL) if user.is_superuser else stored_model_permissions(user)

    @rule(data=st.data(), scopes=st.frozensets(st.sampled_from(POOL), max_size=4))
    def create_key(self, data: st.DataObject, scopes: frozenset[str]) -> None:
        user = data.draw(st.sampled_from(self.users), label="creator")
        allowed = set(scopes) <= self._holds(user)
        response = self.clients[user.pk].post(
            "/api/v1/api-keys", {"name": "prop", "scopes": sorted(scopes)}
        )
        assert response.status_code == (201 if allowed else 403), response.content
        self.totals["steps"] += 1
        if response.status_code == 201:
            body = response.json()
            self.keys.append(
                {"id": body["id"], "user": user, "scopes": set(scopes), "raw": body["key"]}
            )

    @rule(data=st.data(), names=st.frozensets(st.sampled_from(ROLE_NAMES), max_size=2))
    def set_roles(self, data: st.DataObject, names: frozenset[str]) -> None:
        user = data.draw(st.sampled_from(self.users), label="user")
        user_set_roles(actor=None, user=user, roles=[self.roles[n] for n in sorted(names)])
        self.totals["steps"] += 1

    @rule(permissions=st.frozensets(st.sampled_from(POOL), max_size=4))
    def change_custom_role(self, permissions: frozenset[str]) -> None:
        role_update(actor=None, role=self.roles["custom"], permissions=sorted(permissions))
        self.totals["steps"] += 1

    @rule(data=st.data())
    def revoke(self, data: st.DataObject) -> None:
        live = [key for key in self.keys if not key.get("revoked")]
        if not live:
            return
        key = data.draw(st.sampled_from(live), label="key")
        client = self.clients[key["user"].pk]
        assert client.delete(f"/api/v1/api-keys/{key['id']}").status_code == 204
        key["revoked"] = True
        self.totals["steps"] += 1

    @invariant()
    def every_key_holds_its_scopes_within_its_creator(self) -> None:
        for key in self.keys:
            held = self._holds(key["user"])
            program = APIClient()
            program.credentials(HTTP_X_API_KEY=key["raw"])
            for permission, path in PROBES.items():
                status = program.get(path).status_code
                self.totals["probes"] += 1
                if key.get("revoked"):
                    expected = 401
                elif permission in key["scopes"] and permission in held:
                    expected = 200
                else:
                    expected = 403
                if status == 200 and expected != 200:
                    self.totals["exceeded"] += 1
                assert status == expected, (permission, key["scopes"], sorted(held), status)
                if key.get("revoked"):
                    break  # one refusal says it


def test_no_key_ever_holds_more_than_its_creator(roles, capsys):
    totals = {"sequences": 0, "steps": 0, "probes": 0, "exceeded": 0}
    machine = type("Machine", (KeyMachine,), {"default_roles": roles, "totals": totals})
    try:
        run_seeded(machine, name="key scope", capsys=capsys)
    finally:
        record("key sequences tried", totals["sequences"])
        record("key probes", totals["probes"])
        record("key requests beyond the creator", totals["exceeded"])
        with capsys.disabled():
            print(
                f"key scope property: {totals['sequences']} sequences, {totals['steps']} "
                f"steps, {totals['probes']} probes, beyond the creator: {totals['exceeded']}"
            )
    assert totals["exceeded"] == 0
