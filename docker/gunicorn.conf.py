"""The web server's configuration: the ONE place the shipped server is defined.

`docker/entrypoint.sh web` (the Docker image), `make serve` (the same without Docker) and
`bench/serving.py` all run `gunicorn -c docker/gunicorn.conf.py`, so what is measured is
what ships.

Why WSGI with threads (gthread) and not ASGI: Django runs DRF's sync views and Launch's
sync middleware under ASGI in one thread per process, plus a hop between the event loop
and that thread per request; measured on the same app and endpoints, gunicorn with
uvicorn workers served at most as many requests/s as gunicorn's sync workers (0.66x on
`/users/me`), while gthread served more than sync on every endpoint (keep-alive, pooled
connections; docs/benchmarks.md, "Serving"). Sync workers cannot
stream: one slow SSE answer would hold a whole process. With threads, a chat stream
holds one thread (blocked on the model, GIL released, no database connection: see
apps/chat/streaming.py) and the other threads keep answering, so WEB_THREADS bounds the
open streams per process; keep it well above the streams expected per worker.

Every value can be overridden from the environment (names below) without editing this
file; `gunicorn -c docker/gunicorn.conf.py --workers 4` overrides on the command line.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

wsgi_app = "config.wsgi:application"
bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '8000')}"  # noqa: S104 - a container's port
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
# Threads per worker: each request in flight or open chat stream holds one.
threads = int(os.environ.get("WEB_THREADS", "64"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))
graceful_timeout = 30
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# Launch logs every request itself (launch.logging: request id, user, duration); set
# GUNICORN_ACCESS_LOG=- to have gunicorn's own access log on stdout as well.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
control_socket_disable = True

# The database pool is per process and bounds the connections whatever the thread count
# (config/settings/base.py); the web server is where it belongs, so the settings turn it
# on in processes marked as the web server, unless DB_POOL says otherwise. Set before the
# workers import the settings.
os.environ["LAUNCH_WEB_SERVER"] = "1"

# Prometheus (launch/metrics.py): each worker process writes its values to files in
# PROMETHEUS_MULTIPROC_DIR and a scrape of /metrics, served by any worker, adds them up.
# prometheus_client reads the variable when a worker first imports it, so it is set here,
# in the master, before any worker starts; a fresh folder per start unless given one.
_own_metrics_dir = not os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if _own_metrics_dir:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="launch-metrics-")


def on_starting(server: Any) -> None:
    """Values left by an earlier run would be added to this one's: start empty."""
    folder = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.db"):
        stale.unlink()


def child_exit(server: Any, worker: Any) -> None:
    """A worker that exited (restarted, killed) leaves its counters to the sum; its live
    gauges are dropped."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server: Any) -> None:
    """The folder this configuration made goes with the server; one given is left."""
    if _own_metrics_dir:
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
