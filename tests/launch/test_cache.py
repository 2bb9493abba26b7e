"""Launch's Redis cache backend (launch/cache.py): Django's, with one client per pool,
on the real Redis the other cache tests use, and swapped in by the settings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from launch.cache import RedisCache

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = "redis://127.0.0.1:6379/12"


@pytest.fixture
def redis_cache():
    # A prefix of its own: nothing another test keeps in database 12 is touched.
    return RedisCache(REDIS_URL, {"KEY_PREFIX": f"test-cache-{uuid.uuid4().hex}"})


def test_every_call_shares_one_client(redis_cache):
    client = redis_cache._cache.get_client()
    assert redis_cache._cache.get_client(write=True) is client
    assert redis_cache._cache.get_client(key="other") is client


def test_it_is_still_djangos_cache(redis_cache):
    redis_cache.set_many({"a": 1, "b": [2, 3]}, 30)
    assert redis_cache.get_many(["a", "b", "c"]) == {"a": 1, "b": [2, 3]}
    assert redis_cache.add("a", 9) is False
    redis_cache.delete_many(["a", "b"])
    assert redis_cache.get("a") is None


def cache_backend(**environ: str) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("CACHE_URL", "REDIS_URL")}
    env.update(SECRET_KEY="settings-test-key", DJANGO_SETTINGS_MODULE="", **environ)
    code = (
        "import json; from config.settings import base; "
        "print(json.dumps(base.CACHES['default']['BACKEND']))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=False, cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    return str(json.loads(out.stdout))


@pytest.mark.parametrize(
    ("environ", "backend"),
    [
        ({"CACHE_URL": REDIS_URL}, "launch.cache.RedisCache"),
        ({"REDIS_URL": REDIS_URL}, "launch.cache.RedisCache"),
        ({}, "django.core.cache.backends.locmem.LocMemCache"),
    ],
)
def test_the_settings_use_it_for_redis(environ, backend):
    assert cache_backend(**environ) == backend
