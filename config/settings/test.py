"""Settings for the test suite: a real PostgreSQL (embedded unless DATABASE_URL is set)."""

import atexit
import os
import shutil
import tempfile

os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECRET_KEY", "test-insecure-key-0123456789abcdefghijklmnopqrstuvwxyz")
if not os.environ.get("DATABASE_URL"):
    from launch.embedded_db import database_url

    os.environ["DATABASE_URL"] = database_url()
os.environ.setdefault("ALLOWED_HOSTS", "*")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("EMAIL_URL", "smtp://localhost:25")
# No statement timeout by default: tests load thousands of rows in-process (a worker's
# job in production), and timing must not decide whether a test passes. The tests of
# the timeout set it themselves (tests/hardening/test_cost.py, tests/launch/test_limits.py).
os.environ.setdefault("DB_STATEMENT_TIMEOUT_MS", "0")
# Ledger rows written inline, so a test reads them as soon as the call returns; the
# deferred writer has its own tests (tests/usage/test_writer.py).
os.environ.setdefault("USAGE_LEDGER_DEFERRED", "false")
# Each test session gets its own filesystem broker, shared with the Celery worker that the
# end-to-end tests start; a Redis broker is opt-in (LAUNCH_TEST_REDIS_URL).
os.environ["REDIS_URL"] = os.environ.get("LAUNCH_TEST_REDIS_URL", "")
for _name, _prefix in (("CELERY_BROKER_DIR", "launch-broker-"), ("MEDIA_ROOT", "launch-media-")):
    if not os.environ.get(_name):
        os.environ[_name] = tempfile.mkdtemp(prefix=_prefix)
        atexit.register(shutil.rmtree, os.environ[_name], ignore_errors=True)

from .base import *
from .base import PASSWORD_HASHERS, REST_FRAMEWORK, env

EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# bcrypt is deliberately slow; tests create many users. Production keeps bcrypt first.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]
# Generous, so tests never trip over each other's counts; a test that starts servers
# sets a real rate with TEST_THROTTLE_<SCOPE>_RATE (tests/hardening/test_shared_throttles.py).
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_THROTTLE_RATES": {
        scope: os.environ.get(f"TEST_THROTTLE_{scope.upper()}_RATE", "1000/min")
        for scope in REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    },
}
# Tests clear the cache between cases: never let that reach a Redis that a broker uses
# (LAUNCH_TEST_REDIS_URL); a test that needs Redis points CACHE_URL at its own database.
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}
# One process: the per-process cache is coherent, so the tests exercise the rights cache.
RIGHTS_CACHE = True
DATABASES["default"]["CONN_MAX_AGE"] = 0
# The test database is created and dropped under the suite's own connections: a pool
# (DB_POOL=on in the shell) would hold connections to it across tests.
DATABASES["default"].get("OPTIONS", {}).pop("pool", None)
LOCAL_GENERATE_SUPERUSER_PASSWORD = True
# Separate names let several test sessions share one server (TEST_DB_NAME=test_launch_a ...).
DATABASES["default"]["TEST"] = {"NAME": os.environ.get("TEST_DB_NAME", "test_launch")}
