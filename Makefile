# Waymark: `make run` serves the app on http://127.0.0.1:8000; `make test` runs every test.
# Both start from nothing but Python 3.11 and are safe to run again.

PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
export DJANGO_SETTINGS_MODULE := config.settings

# Under CI=true the suite runs against real PostgreSQL and Redis (tests needing them fail
# rather than skip): default to the local ones, which `make test` starts when they are down.
ifneq ($(filter true 1 yes,$(CI)),)
export DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/waymark
export REDIS_URL ?= redis://127.0.0.1:6379/0
CI_SERVICES := services
endif

.PHONY: help run test install setup migrate seed demo lint format bench wrk browser services worker beat check-deploy clean reliability image-check backup-check

help:
	@echo "make run     set everything up and serve on http://$(HOST):$(PORT)"
	@echo "make test    install what tests need and run the whole suite"
	@echo "make worker  run a Celery worker     make beat   run Celery beat"
	@echo "make bench   run the benchmark (BENCH_ARGS=\"--scale small\" for the quick one)"
	@echo "make lint    ruff"
	@echo "make reliability   load and fault runs (docs/reliability.md; SCENARIO=name for one)"
	@echo "make image-check   the Dockerfile's steps without Docker"
	@echo "make backup-check  back up DATABASE_URL, restore into a scratch copy, compare"

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Waymark needs $(PYTHON) on PATH (set PYTHON=...)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(PY) manage.py migrate --noinput

seed: migrate
	$(PY) manage.py load_curriculum seeds/

demo: seed
	$(PY) manage.py create_demo_accounts

setup: demo

run: setup
	@echo "Waymark on http://$(HOST):$(PORT)/  (demo accounts: var/demo-accounts.txt)"
	$(PY) manage.py runserver $(HOST):$(PORT)

# Headless Chromium for the browser tests: Debian's package (Playwright's own download
# cannot work on these machines). Installed only when missing; needs root or sudo.
browser:
	@test -x /usr/bin/chromium || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

services:
	bash .ci/services

test: install browser $(CI_SERVICES)
	$(PY) manage.py makemigrations --check --dry-run >/dev/null || { echo "Model changes without a migration: run makemigrations"; exit 1; }
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .

format: install
	$(VENV)/bin/ruff format .

# The benchmark (bench/, docs/performance.md): PostgreSQL (the server DATABASE_URL names; it
# makes and drops a database of its own) and Redis, wrk for the HTTP load (Debian's package,
# installed when missing). `make bench BENCH_ARGS="--scale small"` is CI's smoke check.
BENCH_ARGS ?= --scale full
bench: install wrk $(CI_SERVICES)
	$(PY) -m bench $(BENCH_ARGS)

wrk:
	@command -v wrk >/dev/null || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq wrk >/dev/null; }

worker: install
	$(VENV)/bin/celery -A config worker --loglevel=INFO

beat: install
	$(VENV)/bin/celery -A config beat --loglevel=INFO

check-deploy: install
	DEBUG=0 SECRET_KEY=$${SECRET_KEY:-check-only-$$(date +%s)-not-a-real-key-0123456789abcdef} ALLOWED_HOSTS=example.com SITE_URL=$${SITE_URL:-https://example.com} $(PY) manage.py check --deploy --fail-level WARNING

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .hypothesis

# Load and fault runs on a private production-mode stack (own PostgreSQL cluster, Redis and
# gunicorn; never the shared ones). One scenario: make reliability SCENARIO=redis-faults
SCENARIO ?= all
reliability: install
	$(PY) scripts/reliability.py $(SCENARIO)

image-check: install
	$(PY) scripts/image_check.py

backup-check: install
	$(PY) scripts/backup.py check
