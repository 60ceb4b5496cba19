# The two commands: `make run` (set up and run the app on the embedded default)
# and `make test` (set up and run the tests). Both work on a fresh machine with
# Python 3.11+.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# The embedded broker of `make run`: the queue as files under var/celery, no
# server needed. An exported CELERY_BROKER_URL (Redis) takes precedence.
DEV_BROKER ?= filesystem://
# BEAT=1 also runs Celery beat (reminders, expiry of lost report jobs) in the worker.
BEAT ?=

.PHONY: install setup run test lint worker beat messages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed

# Database schema, reference data, the adopted 2021 roadmap and demo users.
setup: install
	mkdir -p var
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_roadmap
	$(BIN)/python manage.py load_statuses
	$(BIN)/python manage.py seed_demo

# The server and a Celery worker beside it; Ctrl-C stops both.
run: setup
	CELERY_BROKER_URL=$${CELERY_BROKER_URL:-$(DEV_BROKER)} \
		$(BIN)/python manage.py runall $(if $(BEAT),--beat) $(HOST):$(PORT)

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py makemigrations --check --dry-run

worker: install
	CELERY_BROKER_URL=$${CELERY_BROKER_URL:-$(DEV_BROKER)} \
		$(BIN)/celery -A fardplan worker --loglevel=info

beat: install
	mkdir -p var
	CELERY_BROKER_URL=$${CELERY_BROKER_URL:-$(DEV_BROKER)} \
		$(BIN)/celery -A fardplan beat --loglevel=info --schedule=var/celerybeat-schedule

messages: install
	$(BIN)/python manage.py makemessages -l sv --ignore=.venv --ignore=var
	$(BIN)/python manage.py compilemessages --ignore=.venv

clean:
	rm -rf $(VENV) var
