#!/bin/sh
# One image, three roles. `web` applies migrations and runs `bootstrap` (both idempotent,
# and safe with several web replicas: migrations take PostgreSQL locks, bootstrap only
# creates what is missing), then serves. `serve` is the server alone: `make serve` and the
# benchmarks (bench/serving.py) run it, so they run exactly what the image runs.
#
# The server: gunicorn with threaded WSGI workers (gthread), configured in ONE place,
# docker/gunicorn.conf.py (workers, threads, timeouts; the database pool on). Chosen by
# measurement over gunicorn + uvicorn workers (ASGI), which served at most the requests/s
# of sync workers on the JSON API; gthread serves more than sync on every endpoint while
# 50 open chat streams (SSE) leave other requests unaffected (docs/benchmarks.md,
# "Serving").
set -eu

case "${1:-web}" in
  web)
    python manage.py migrate --no-input
    python manage.py bootstrap
    exec gunicorn --config docker/gunicorn.conf.py
    ;;
  serve)
    exec gunicorn --config docker/gunicorn.conf.py
    ;;
  worker)
    # WORKER_QUEUES picks the kinds of work (compose.yml runs a worker per queue); every
    # queue by default, as on a single machine. The pool's processes add their metrics up
    # in PROMETHEUS_MULTIPROC_DIR (a fresh folder unless given), served on
    # METRICS_WORKER_PORT when set (launch/metrics.py).
    PROMETHEUS_MULTIPROC_DIR="${PROMETHEUS_MULTIPROC_DIR:-$(mktemp -d)}"
    export PROMETHEUS_MULTIPROC_DIR
    exec celery -A config worker --loglevel "${LOG_LEVEL:-INFO}" \
      --concurrency "${WORKER_CONCURRENCY:-2}" \
      --queues "${WORKER_QUEUES:-default,ingestion,answers,maintenance}"
    ;;
  beat)
    # DatabaseScheduler (settings): the schedule lives in PostgreSQL, editable in the admin.
    exec celery -A config beat --loglevel "${LOG_LEVEL:-INFO}"
    ;;
  *)
    exec "$@"
    ;;
esac
