"""The deployment files agree with the settings: every queue has a worker, no container
shares a disk, one beat. (Docker does not run here; tests/topology runs the same
topology from processes.)"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.conf import settings

from config.celery import app
from launch.devserver import QUEUES as DEVSERVER_QUEUES

ROOT = Path(__file__).resolve().parent.parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker" / "compose.yml").read_text())
SERVICES: dict[str, Any] = COMPOSE["services"]
APP_SERVICES = {name: svc for name, svc in SERVICES.items() if svc.get("image") == "launch:latest"}
ENTRYPOINT = (ROOT / "docker" / "entrypoint.sh").read_text()


def worker_queues() -> dict[str, set[str]]:
    return {
        name: set(svc["environment"]["WORKER_QUEUES"].split(","))
        for name, svc in APP_SERVICES.items()
        if svc.get("command") == ["worker"]
    }


def test_every_queue_has_a_worker_in_compose_and_each_worker_one_kind_of_work():
    workers = worker_queues()
    assert set().union(*workers.values()) == set(settings.TASK_QUEUE_NAMES)
    assert workers["worker-ingestion"] == {"ingestion"}
    assert not any(
        "ingestion" in queues for name, queues in workers.items() if name != "worker-ingestion"
    )


@pytest.mark.parametrize(
    "task",
    [
        "apps.projects.tasks.document_process",
        "apps.chat.tasks.conversation_generate_title",
        "apps.users.tasks.password_recovery_send",
        "apps.operations.tasks.prune_activity",
        "apps.projects.tasks.documents_requeue_stuck",
        "celery.backend_cleanup",
    ],
)
def test_every_task_is_routed_to_a_declared_queue(task):
    queue = app.amqp.router.route({}, task)["queue"].name
    assert queue in settings.TASK_QUEUE_NAMES
    expected = {
        "apps.projects.tasks.document_process": "ingestion",
        "apps.chat.tasks.conversation_generate_title": "answers",
        "apps.users.tasks.password_recovery_send": "answers",
        "apps.operations.tasks.prune_activity": "maintenance",
        "apps.projects.tasks.documents_requeue_stuck": "maintenance",
        "celery.backend_cleanup": "default",
    }
    assert queue == expected[task]


def test_a_single_worker_consumes_every_queue_by_default():
    default = re.search(r"WORKER_QUEUES:-([a-z,]+)\}", ENTRYPOINT)
    assert default is not None
    assert set(default.group(1).split(",")) == set(settings.TASK_QUEUE_NAMES)
    assert set(DEVSERVER_QUEUES) == set(settings.TASK_QUEUE_NAMES)


def test_no_app_container_shares_a_disk_files_go_to_the_object_store():
    for name, service in APP_SERVICES.items():
        assert not service.get("volumes"), f"{name} mounts a volume"
        assert service["environment"]["STORAGE_BACKEND"] == "s3"
    assert "s3" in SERVICES


def test_two_web_processes_one_beat_and_migrations_once():
    assert SERVICES["web"]["deploy"]["replicas"] >= 2
    assert SERVICES["beat"]["deploy"]["replicas"] == 1
    waits_for_migrate = [
        name
        for name, service in APP_SERVICES.items()
        if service["depends_on"].get("migrate", {}).get("condition")
        == "service_completed_successfully"
    ]
    assert set(waits_for_migrate) == set(APP_SERVICES) - {"migrate"}
