# Launch: `make run` serves the whole stack, `make test` runs the suite. Both set up
# everything they need (a .venv with requirements/dev.txt, the embedded PostgreSQL).

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements/*.txt | cksum | cut -d' ' -f1)

.PHONY: run serve test test-property test-browser test-topology lint format types check-deploy reliability clean-data help

help:
	@echo "make run    - set up and serve API, admin, Celery worker and beat on 127.0.0.1:$${PORT:-8000}"
	@echo "make serve  - the production server as the Docker image runs it (SECRET_KEY required)"
	@echo "make test   - set up and run the test suite with coverage (real PostgreSQL)"
	@echo "make test-property - the stateful property tests (bounded sequences through the API)"
	@echo "make test-browser - the front end's flows in a real Chromium against a real server"
	@echo "make test-topology - the deployment from processes: web x2, a worker per queue, a read replica, S3"
	@echo "make lint   - ruff check, ruff format --check, mypy"
	@echo "make types  - write openapi.json and TypeScript types (types/api.d.ts)"

$(STAMP): requirements/base.txt requirements/prod.txt requirements/dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Launch needs Python 3.11 or newer; set PYTHON=/path/to/python3.11")' \
		|| { echo "Python not found or too old: set PYTHON=python3.11 (or newer)"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements/dev.txt
	@rm -f $(VENV)/.installed-*
	@touch $@

run: $(STAMP)
	$(PY) -m launch.devserver

# The production recipe without Docker: exactly the image's web role (migrations,
# bootstrap, then `gunicorn --config docker/gunicorn.conf.py`, the one place the server is
# defined), with production settings. Required: SECRET_KEY, and FIRST_SUPERUSER_PASSWORD
# until bootstrap has created the first superuser (FIRST_SUPERUSER). Defaults for a plain-HTTP server on this
# machine, each overridable from the environment: the embedded PostgreSQL unless
# DATABASE_URL is set, ALLOWED_HOSTS 127.0.0.1,localhost, HOST 127.0.0.1, PORT 8000, no
# HTTPS redirect and no Secure cookie flag (set SECURE_SSL_REDIRECT, SESSION_COOKIE_SECURE,
# CSRF_COOKIE_SECURE, AUTH_COOKIE_SECURE to true behind TLS). Workers, threads and the
# database pool: WEB_CONCURRENCY, WEB_THREADS, DB_POOL_* (.env.example).
serve: $(STAMP)
	@test -n "$$SECRET_KEY" || grep -qs '^SECRET_KEY=.' .env \
		|| { echo "make serve: set SECRET_KEY (production settings require it)"; exit 1; }
	DJANGO_SETTINGS_MODULE=config.settings.base DEBUG=false \
	DATABASE_URL=$${DATABASE_URL:-$$($(PY) -m launch.embedded_db url)} \
	ALLOWED_HOSTS=$${ALLOWED_HOSTS:-127.0.0.1,localhost} \
	HOST=$${HOST:-127.0.0.1} PORT=$${PORT:-8000} \
	SECURE_SSL_REDIRECT=$${SECURE_SSL_REDIRECT:-false} \
	SESSION_COOKIE_SECURE=$${SESSION_COOKIE_SECURE:-false} \
	CSRF_COOKIE_SECURE=$${CSRF_COOKIE_SECURE:-false} \
	AUTH_COOKIE_SECURE=$${AUTH_COOKIE_SECURE:-false} \
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" \
		sh -c '$(PY) manage.py collectstatic --no-input --verbosity 0 && exec docker/entrypoint.sh web'

test: $(STAMP)
	$(PY) manage.py makemigrations --check --dry-run --settings=config.settings.test
	$(PY) manage.py spectacular --validate --fail-on-warn --settings=config.settings.test --file /dev/null
	$(PY) -m pytest --create-db --cov --cov-report=term -m "not property and not browser"

# Stateful property tests: a few minutes of bounded, seeded API sequences (the seed is
# printed; LAUNCH_PROPERTY_SEED replays one, LAUNCH_PROPERTY_SEQUENCES/_STEPS scale it).
test-property: $(STAMP)
	$(PY) -m pytest -m property

# A real Chromium (Debian's package: Playwright downloads no browser here) against the
# real server; installs chromium when missing (as root, as CI runs), or set CHROMIUM.
test-browser: $(STAMP)
	@test -n "$$CHROMIUM" || command -v chromium >/dev/null 2>&1 \
		|| (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium) \
		|| { echo "Install Debian's chromium package, or set CHROMIUM=/path/to/chrome"; exit 1; }
	$(PY) -m pytest -m browser tests/browser

# Two web processes without a shared disk, workers per queue, a streaming replica, an S3
# server and a private redis-server, all on loopback (tests/support/topology.py).
test-topology: $(STAMP)
	$(PY) -m pytest -m topology tests/topology

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy .

format: $(STAMP)
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

types: $(STAMP)
	$(PY) manage.py spectacular --format openapi-json --file openapi.json
	@command -v npx >/dev/null || { echo "npx (Node.js) is required for make types"; exit 1; }
	npx --yes openapi-typescript@7.13.0 openapi.json --output types/api.d.ts
	@echo "wrote openapi.json and types/api.d.ts"

# Production needs a shared cache for its throttles (launch.E001): Redis, as CI runs one.
check-deploy: $(STAMP)
	DEBUG=false SECRET_KEY=$$(head -c 48 /dev/urandom | base64) DATABASE_URL=$${DATABASE_URL:-$$($(PY) -m launch.embedded_db url)} \
		REDIS_URL=$${REDIS_URL:-redis://127.0.0.1:6379/0} \
		ALLOWED_HOSTS=example.com $(PY) manage.py check --deploy --fail-level WARNING --settings=config.settings.base

# Runs the tests marked @pytest.mark.promise and rewrites docs/reliability.md from them.
reliability: $(STAMP)
	$(PY) -m tests.support.reliability_report

clean-data:
	$(PY) -m launch.embedded_db stop
	rm -rf .data
