"""The multi-process deployment (`make test-topology`): run only when asked for with
`-m topology`, since it starts a dozen processes and takes a few minutes."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.support.topology import SUPERUSER, SUPERUSER_PASSWORD, Topology

PASSWORD = "topology-member-password-0123"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if "topology" in (config.getoption("markexpr") or ""):
        return
    deselected = [item for item in items if item.get_closest_marker("topology")]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if not item.get_closest_marker("topology")]


@pytest.fixture(scope="session")
def stack() -> Iterator[Topology]:
    topology = Topology()
    try:
        topology.start()
        yield topology
    finally:
        topology.stop()


@dataclass
class Account:
    email: str
    token: str
    team: str | None = None  # the X-Team-ID it works in (None: its default team)


@pytest.fixture(scope="session")
def member(stack: Topology) -> Account:
    """A user who signed up through web 1 and logged in through web 2."""
    web_1, web_2 = stack.webs
    email = f"member-{uuid.uuid4().hex[:8]}@topology.example.com"
    signup = web_1.request(
        "POST", "/users/signup", json={"email": email, "password": PASSWORD, "full_name": "Member"}
    )
    assert signup.status_code == 201, signup.text
    return Account(email, web_2.login(email, PASSWORD))


@pytest.fixture(scope="session")
def superuser(stack: Topology, member: Account) -> Account:
    """The bootstrap superuser, working in the member's (personal) team: it sees every
    project there, and writes nothing in these tests."""
    teams = stack.webs[0].request("GET", "/teams", member.token)
    assert teams.status_code == 200, teams.text
    team = next(row["id"] for row in teams.json()["data"] if row["is_default"])
    return Account(SUPERUSER, stack.webs[1].login(SUPERUSER, SUPERUSER_PASSWORD), team)
