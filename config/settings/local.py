"""Settings for a laptop: DEBUG, the embedded database, console email."""

import os

os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("SECRET_KEY", "local-insecure-key-do-not-use-in-production-0123456789")
if not os.environ.get("DATABASE_URL"):
    from launch.embedded_db import database_url

    os.environ["DATABASE_URL"] = database_url()
os.environ.setdefault("EMAIL_URL", "consolemail://")
os.environ.setdefault("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")

from .base import *

LOCAL_GENERATE_SUPERUSER_PASSWORD = True
