# Two commands do all the set-up: `make run` (the embedded default) and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run serve test lint

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet ".[dev]"
	touch $@

install: $(VENV)/.installed


# Migrates, loads the demo data (idempotent), then serves the portal with a Celery worker and beat: the
# Procfile's processes under honcho, which `exec` puts straight under make. Ctrl-C and a closed terminal
# stop all of them. `make serve` is the last step alone (tests/test_make_run.py runs it).
run serve: export HOST := $(HOST)
run serve: export PORT := $(PORT)
run serve: export PATH := $(abspath $(VENV))/bin:$(PATH)
run serve: export PYTHONUNBUFFERED := 1
run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	exec $(PY) bin/run_procfile.py start

serve:
	exec $(PY) bin/run_procfile.py start

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run
