"""docker/compose.yml's promise, from processes: web processes share no disk, workers
per queue, a read replica, files in an S3-compatible bucket.

An upload through web 1 lands in the bucket (web 1's media folder stays empty), is
processed by the ingestion worker, which has a media folder of its own and so could not
read web 1's disk if the file were there, and is served back through web 2: status,
progress, search, a chat answer citing it, a title from the answers worker, and the
delete that removes the object.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.support.topology import Topology

pytestmark = pytest.mark.topology

TEXT = (
    b"Field notes on amphibians.\n\n"
    b"The axolotl regrows its limbs, its heart and even parts of its brain. It keeps its "
    b"larval gills for life and lives only in the lakes around Mexico City."
)
POLL_TIMEOUT = 120.0


def eventually(probe: Callable[[], Any], what: str, stack: Topology) -> Any:
    deadline = time.monotonic() + POLL_TIMEOUT
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.3)
    pytest.fail(f"timed out waiting for {what}\n{stack.logs()}")


def task_runs(log: str, task: str) -> int:
    """Tasks of that name a worker received (its banner lists names without "Task ")."""
    return log.count(f"Task {task}[")


def test_an_upload_through_web_1_is_processed_without_its_disk_and_served_by_web_2(stack, member):
    web_1, web_2 = stack.webs
    token = member.token
    project = web_1.request("POST", "/projects", token, json={"name": "Field guide"}).json()
    upload = web_1.request(
        "POST",
        f"/projects/{project['id']}/documents",
        token,
        files={"file": ("axolotl.txt", TEXT, "text/plain")},
        data={"document_type": "notes"},
    )
    assert upload.status_code == 201, upload.text
    document_id = upload.json()["id"]

    # The file is in the bucket, and on no process's disk.
    keys = stack.s3.keys(stack.bucket, prefix=f"documents/{project['id']}/")
    assert len(keys) == 1
    assert stack.files_on_disk() == []

    def processed() -> dict[str, Any] | None:
        progress = web_2.request("GET", f"/documents/{document_id}/progress", token).json()
        return progress if progress["status"] in ("completed", "failed") else None

    progress = eventually(processed, "the document to be processed", stack)
    assert progress["status"] == "completed", progress
    assert progress["progress_percentage"] == 100.0
    document = web_2.request("GET", f"/documents/{document_id}", token).json()
    assert document["status"] == "completed"
    assert document["total_chunks"] >= 1

    # The ingestion worker did it; the other worker never saw an ingestion task.
    assert task_runs(
        stack.workers["worker-ingestion"].log(), "apps.projects.tasks.document_process"
    )
    assert not task_runs(
        stack.workers["worker-answers"].log(), "apps.projects.tasks.document_process"
    )

    def found() -> list[dict[str, Any]]:
        response = web_2.request("POST", "/search", token, json={"query": "axolotl regrows limbs"})
        assert response.status_code == 200, response.text
        return [hit for hit in response.json()["data"] if hit["document_id"] == document_id]

    assert eventually(found, "search through web 2 to find the document", stack)

    # A chat answer through web 2 cites the document; the title comes from the answers queue.
    conversation = web_2.request(
        "POST",
        "/chat/conversations",
        token,
        json={"title": "New chat", "use_documents": True, "project_id": project["id"]},
    ).json()
    answer = web_2.request(
        "POST",
        f"/chat/conversations/{conversation['id']}/messages",
        token,
        json={"content": "What does the axolotl regrow?"},
    )
    assert answer.status_code == 201, answer.text
    assert document_id in {ref["document_id"] for ref in answer.json()["document_references"]}
    requested = web_1.request(
        "POST", f"/chat/conversations/{conversation['id']}/generate-title", token
    )
    assert requested.status_code == 200, requested.text

    def titled() -> dict[str, Any] | None:
        detail = web_2.request(
            "GET", f"/chat/conversations/{conversation['id']}/detail", token
        ).json()
        return detail if detail["auto_generated_title"] else None

    assert eventually(titled, "the generated title", stack)["title"] != "New chat"
    assert task_runs(
        stack.workers["worker-answers"].log(), "apps.chat.tasks.conversation_generate_title"
    )

    # Deleting through web 2 removes the object from the bucket.
    assert web_2.request("DELETE", f"/documents/{document_id}", token).status_code == 200
    assert stack.s3.keys(stack.bucket, prefix=f"documents/{project['id']}/") == []
    assert stack.files_on_disk() == []
