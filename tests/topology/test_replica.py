"""Read replicas against a real streaming replica of PostgreSQL (tests/support/postgres_pair).

To tell which server answered, the replica's replay is paused: its data is then frozen
while the primary moves on, so a read that sees a row written after the pause came from
the primary, and one that misses it came from the replica.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.topology import Topology

pytestmark = pytest.mark.topology


def names(web: Any, token: str, team: str | None = None) -> set[str]:
    response = web.request("GET", "/projects?limit=1000", token, team=team)
    assert response.status_code == 200, response.text
    return {project["name"] for project in response.json()["data"]}


def search_hits(web: Any, token: str, query: str, team: str | None = None) -> list[dict[str, Any]]:
    body = {"query": query, "mode": "keyword"}
    response = web.request("POST", "/search", token, team=team, json=body)
    assert response.status_code == 200, response.text
    return list(response.json()["data"])


@pytest.fixture
def frozen_replica(stack: Topology) -> Iterator[None]:
    """The replica with everything written so far, then its replay paused."""
    stack.pair.wait_until_replayed()
    stack.pair.pause_replay()
    try:
        yield
    finally:
        stack.pair.resume_replay()
        stack.pair.wait_until_replayed()


def wait_processed(stack: Topology, token: str, document_id: str) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        status = stack.webs[0].request("GET", f"/documents/{document_id}", token).json()["status"]
        if status in ("completed", "failed"):
            assert status == "completed"
            return
        time.sleep(0.3)
    pytest.fail(f"the document was not processed\n{stack.logs()}")


def test_lists_are_served_by_the_replica_and_a_write_is_read_back_from_the_primary(
    stack, member, superuser, frozen_replica
):
    web_1, web_2 = stack.webs
    name = f"Written while the replica is frozen {uuid.uuid4().hex[:6]}"
    created = web_1.request("POST", "/projects", member.token, json={"name": name})
    assert created.status_code == 201

    # The writer reads its write back through the other web process: no cookie (a
    # Bearer client), so the pin comes from the shared cache (Redis), and the list is
    # read from the primary.
    assert name in names(web_2, member.token)
    # Somebody who wrote nothing is served by the replica, which has not seen it yet.
    assert name not in names(web_2, superuser.token, superuser.team)
    assert name not in names(web_1, superuser.token, superuser.team)


def test_search_is_served_by_the_replica(stack, member, superuser):
    web_1, web_2 = stack.webs
    marker = f"zq{uuid.uuid4().hex[:10]}"
    project = web_1.request("POST", "/projects", member.token, json={"name": "Search"}).json()
    stack.pair.wait_until_replayed()
    stack.pair.pause_replay()
    try:
        upload = web_1.request(
            "POST",
            f"/projects/{project['id']}/documents",
            member.token,
            files={"file": ("note.txt", f"The codeword is {marker} today.".encode(), "text/plain")},
        )
        assert upload.status_code == 201, upload.text
        wait_processed(stack, member.token, upload.json()["id"])  # on the primary
        # The replica has neither the project nor its chunks yet.
        assert search_hits(web_2, superuser.token, marker, superuser.team) == []
    finally:
        stack.pair.resume_replay()
    stack.pair.wait_until_replayed()
    hits = search_hits(web_2, superuser.token, marker, superuser.team)
    assert [hit["document_id"] for hit in hits] == [upload.json()["id"]]


def test_reads_fall_back_to_the_primary_while_the_replica_is_down(
    stack, member, superuser, frozen_replica
):
    web_1, web_2 = stack.webs
    name = f"Written before the replica stopped {uuid.uuid4().hex[:6]}"
    assert web_1.request("POST", "/projects", member.token, json={"name": name}).status_code == 201
    assert name not in names(web_2, superuser.token, superuser.team)  # the frozen replica answers
    stack.pair.stop_replica()
    try:
        # Down: both web processes answer from the primary, which has the new project.
        assert name in names(web_2, superuser.token, superuser.team)
        assert name in names(web_1, superuser.token, superuser.team)
        marker = "replica replica_1 is unavailable"
        assert all(marker in web.process.log() for web in stack.webs)
    finally:
        stack.pair.start_replica()  # resumes replaying where it stopped
