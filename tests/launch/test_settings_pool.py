"""The database pool's settings (config/settings/base.py), read from the environment in a
fresh interpreter each, as a process starting with that environment would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
# A query option django-environ turns into OPTIONS: the pool must be added beside it.
DATABASE_URL = "postgres://launch@db.invalid:5432/launch?connect_timeout=5"


def database_settings(**environ: str) -> dict[str, Any]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DB_", "LAUNCH_WEB_SERVER", "DJANGO_SETTINGS_MODULE"))
    }
    env.update(SECRET_KEY="settings-test-key", DATABASE_URL=DATABASE_URL, **environ)
    code = (
        "import json; from config.settings import base; "
        "print(json.dumps(base.DATABASES['default'], default=str))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=False, cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    return dict(json.loads(out.stdout))


def test_the_web_server_pools_connections_beside_the_other_options():
    db = database_settings(LAUNCH_WEB_SERVER="1")
    assert db["OPTIONS"]["connect_timeout"] == 5
    assert db["OPTIONS"]["pool"] == {
        "min_size": 2,
        "max_size": 8,
        "timeout": 10.0,
        "max_idle": 300.0,
    }
    # The pool hands connections back at the end of each request, and checks them itself.
    assert db["CONN_MAX_AGE"] == 0
    assert db["CONN_HEALTH_CHECKS"] is False


@pytest.mark.parametrize("environ", [{}, {"LAUNCH_WEB_SERVER": "1", "DB_POOL": "off"}])
def test_without_the_pool_connections_persist_with_health_checks(environ):
    db = database_settings(**environ)
    assert "pool" not in db.get("OPTIONS", {})
    assert db["CONN_MAX_AGE"] == 60
    assert db["CONN_HEALTH_CHECKS"] is True


def test_pool_sizes_come_from_the_environment():
    db = database_settings(
        DB_POOL="on", DB_POOL_MIN_SIZE="1", DB_POOL_MAX_SIZE="3", DB_POOL_TIMEOUT="2.5"
    )
    assert db["OPTIONS"]["pool"]["min_size"] == 1
    assert db["OPTIONS"]["pool"]["max_size"] == 3
    assert db["OPTIONS"]["pool"]["timeout"] == 2.5
