#!/bin/sh
# One image, three roles. `web` applies migrations and runs `bootstrap` (both idempotent,
# and safe with several web replicas: migrations take PostgreSQL locks, bootstrap only
# creates what is missing), then serves ASGI with gunicorn + uvicorn workers.
set -eu

case "${1:-web}" in
  web)
    python manage.py migrate --no-input
    python manage.py bootstrap
    exec gunicorn config.asgi:application \
      --worker-class uvicorn_worker.UvicornWorker \
      --bind "0.0.0.0:${PORT:-8000}" \
      --workers "${WEB_CONCURRENCY:-2}" \
      --timeout "${GUNICORN_TIMEOUT:-120}" \
      --graceful-timeout 30 \
      --forwarded-allow-ips "${FORWARDED_ALLOW_IPS:-127.0.0.1}" \
      --access-logfile - \
      --no-control-socket
    ;;
  worker)
    # WORKER_QUEUES picks the kinds of work (compose.yml runs a worker per queue); every
    # queue by default, as on a single machine.
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
