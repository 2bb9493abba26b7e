"""The shipped server (`docker/entrypoint.sh serve`: gunicorn with docker/gunicorn.conf.py)
on loopback, with the production settings module, against the test database.

    with shipped_server(WEB_CONCURRENCY="2") as base:
        httpx.get(f"{base}/api/v1/utils/health-check/")

The test must commit its rows (`@pytest.mark.django_db(transaction=True)`): the server is
another process.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.support.ports import free_port
from tests.support.processes import database_url

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def shipped_server(**overrides: str) -> Iterator[str]:
    """Start it with `overrides` on top of a plain-HTTP production environment; yields
    the base URL once it answers, and stops the whole process group afterwards."""
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "DATABASE_URL": database_url(),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "LOG_LEVEL": "WARNING",
        "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
        **overrides,
    }
    proc = subprocess.Popen(
        ["sh", "docker/entrypoint.sh", "serve"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            if proc.poll() is not None:
                pytest.fail(f"the server exited: {proc.stderr.read().decode()[-3000:]}")  # type: ignore[union-attr]
            try:
                httpx.get(f"{base}/api/v1/utils/health-check/", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            pytest.fail("the server did not answer within about a minute")
        yield base
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=30)
