"""docker/compose.yml's topology from plain processes, for tests on one machine.

Two web processes (the shipped gunicorn configuration, as the image runs it), two Celery
workers on separate queues, a PostgreSQL primary with a streaming replica, a private
Redis as broker and shared cache, and an S3-compatible server (moto). Every process has a media
folder of its own, so nothing can pass a document through a shared disk: files go
through the bucket or nowhere. Settings are the production ones (`config.settings.base`)
from the environment, as a deployment sets them.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import httpx

from tests.support.ports import free_port
from tests.support.postgres_pair import PostgresPair
from tests.support.processes import ROOT, Process
from tests.support.s3_server import S3Server

PYTHON = sys.executable
SUPERUSER = "root@topology.example.com"
SUPERUSER_PASSWORD = "topology-root-password-0123"


def run(command: list[str], env: dict[str, str], timeout: float = 300) -> str:
    result = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


class Web:
    """One web process: its base URL and a small JSON client (no cookie jar: a Bearer
    client, like a script or a mobile app, carries nothing between requests)."""

    def __init__(self, name: str, env: dict[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # The shipped server, from its one definition (docker/gunicorn.conf.py), one
        # process each: the topology is what a deployment runs, not a stand-in.
        served = {
            **env,
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "WEB_CONCURRENCY": "1",
            "WEB_THREADS": "8",
            "GUNICORN_ACCESS_LOG": "-",
        }
        self.process = Process(
            name,
            [PYTHON, "-m", "gunicorn", "--config", str(ROOT / "docker" / "gunicorn.conf.py")],
            served,
        )

    def ready(self) -> bool:
        try:
            return httpx.get(f"{self.url}/api/v1/utils/health-check/", timeout=2).is_success
        except httpx.HTTPError:
            return False

    def request(
        self,
        method: str,
        path: str,
        token: str | None = None,
        *,
        team: str | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if team is not None:
            headers["X-Team-ID"] = team  # the team to work in (else the default team)
        return httpx.request(
            method, f"{self.url}/api/v1{path}", headers=headers, timeout=60, **kwargs
        )

    def login(self, email: str, password: str) -> str:
        response = self.request(
            "POST", "/login/access-token", data={"username": email, "password": password}
        )
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])


class Topology:
    def __init__(self) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="launch-topology-"))
        # A private Redis (broker queues and the shared cache), nothing kept on disk.
        self.redis_port = free_port()
        self.redis_url = f"redis://127.0.0.1:{self.redis_port}/0"
        self.redis = Process(
            "redis",
            [
                "redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", str(self.tmp),
            ],
            dict(os.environ),
        )  # fmt: skip
        self.s3 = S3Server()
        self.pair = PostgresPair()
        self.bucket = "launch-topology"
        self.webs: list[Web] = []
        self.workers: dict[str, Process] = {}

    def media_root(self, name: str) -> Path:
        folder = self.tmp / f"media-{name}"
        folder.mkdir(exist_ok=True)
        return folder

    def env(self, name: str) -> dict[str, str]:
        """The environment of process `name`: shared services, its own media folder."""
        env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
        env.update(
            DJANGO_SETTINGS_MODULE="config.settings.base",
            SECRET_KEY="topology-test-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
            DEBUG="false",
            ALLOWED_HOSTS="127.0.0.1,localhost",
            SECURE_SSL_REDIRECT="false",
            SESSION_COOKIE_SECURE="false",
            CSRF_COOKIE_SECURE="false",
            AUTH_COOKIE_SECURE="false",
            DATABASE_URL=self.pair.primary_url,
            DATABASE_REPLICA_URLS=self.pair.replica_url,
            # A stopped replica is tried again after 2 s rather than 30: the tests restart it.
            DATABASE_REPLICA_RETRY_SECONDS="2",
            REDIS_URL=self.redis_url,
            CACHE_URL=self.redis_url,
            MEDIA_ROOT=str(self.media_root(name)),
            FIRST_SUPERUSER=SUPERUSER,
            FIRST_SUPERUSER_PASSWORD=SUPERUSER_PASSWORD,
            EMAIL_URL="consolemail://",
            EMBEDDING_PROVIDER="hashing",
            LLM_PROVIDER="extractive",
            LOG_FORMAT="plain",
            LOG_LEVEL="WARNING",
            PYTHONUNBUFFERED="1",
            **self.s3.env(self.bucket, AWS_S3_CREATE_BUCKET="true"),
        )
        return env

    def start(self) -> Topology:
        import redis

        client = redis.Redis.from_url(self.redis_url)

        def pings() -> bool:
            try:
                return bool(client.ping())
            except redis.ConnectionError:
                return False

        self.redis.launch().wait_ready(pings, timeout=30)
        self.s3.start()
        self.pair.start()
        setup = self.env("setup")
        run([PYTHON, "manage.py", "migrate", "--no-input"], setup)
        run([PYTHON, "manage.py", "bootstrap"], setup)  # creates the bucket, too
        self.pair.wait_until_replayed()
        for queues in ("ingestion", "answers,maintenance,default"):
            name = f"worker-{queues.split(',')[0]}"
            self.workers[name] = Process(
                name,
                [
                    PYTHON, "-m", "celery", "-A", "config", "worker", "-Q", queues,
                    "--concurrency", "1", "--loglevel", "INFO", "--hostname", f"{name}@%h",
                    "--without-gossip", "--without-mingle", "--without-heartbeat",
                ],
                self.env(name),
            ).launch()  # fmt: skip
        self.webs = [Web(name, self.env(name)) for name in ("web-1", "web-2")]
        for web in self.webs:
            web.process.launch()
        # Started together, waited for in turn: four Django start-ups overlap.
        for worker in self.workers.values():
            worker.wait_ready(lambda w=worker: " ready." in w.log(), timeout=180)  # type: ignore[misc]
        for web in self.webs:
            web.process.wait_ready(web.ready, timeout=180)
        return self

    def stop(self) -> None:
        for process in [*(web.process for web in self.webs), *self.workers.values()]:
            process.stop()
        self.pair.stop()
        self.s3.stop()
        self.redis.stop()

    def files_on_disk(self) -> list[Path]:
        """Every file in any process's media folder (there should be none)."""
        return [path for path in self.tmp.glob("media-*/**/*") if path.is_file()]

    def logs(self) -> str:
        parts = [f"--- {web.process.name} ---\n{web.process.log()[-3000:]}" for web in self.webs]
        parts += [
            f"--- {name} ---\n{worker.log()[-3000:]}" for name, worker in self.workers.items()
        ]
        return "\n".join(parts)
