# Two commands do all the set-up: `make run` (the embedded default) and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test lint

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet ".[dev]"
	touch $@

install: $(VENV)/.installed

# Migrates, loads the demo data (idempotent), then serves the portal with a Celery worker and beat.
# Ctrl-C stops all of them.
run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	trap 'kill 0' INT TERM EXIT; \
	$(VENV)/bin/celery -A ewtp worker --beat --loglevel=INFO --concurrency=2 & \
	$(PY) manage.py runserver $(HOST):$(PORT)

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run
