# The two commands: `make run` and `make test`. Everything else is a step they use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# Two stamps: the runtime dependencies (all `make run` needs) and the test tools on top (`make
# test`); each is rebuilt when pyproject.toml changes, the second also after the first.
STAMP     := $(VENV)/.installed-stamp
DEV_STAMP := $(VENV)/.installed-dev-stamp
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: run test install install-dev migrate static demo lint format migrations-check serve clean

# Ports of `make run` (make run PORT=8010 SINK_PORT=8011 when 8000/8001 are taken). The Procfile
# reads TRUSTSEAL_PORT rather than PORT, which Procfile runners hand every process of their own.
PORT      ?= 8000
SINK_PORT ?= 8001
run demo: export TRUSTSEAL_PORT := $(PORT)
run demo: export TRUSTSEAL_SINK_PORT := $(SINK_PORT)
run demo: export PUBLIC_BASE_URL ?= http://127.0.0.1:$(PORT)

run: migrate static ## install, migrate, seed the demo, start web + worker + beat + webhook sink
	$(BIN)/python manage.py demo
	@echo "Starting web ($(PUBLIC_BASE_URL)), Celery worker and beat, and the webhook sink (:$(SINK_PORT)); Ctrl-C stops them all."
	$(BIN)/python deploy/supervise.py -f Procfile.dev

test: install-dev ## install (with the test tools) and run the whole suite
	$(BIN)/python -m pytest $(PYTEST_ARGS)

install: $(STAMP)

install-dev: $(DEV_STAMP)

$(BIN)/python:
	@$(PYTHON) -c 'import sys; v = sys.version_info; sys.exit(0 if v >= (3, 11) else "Trustseal needs Python >= 3.11, but $(PYTHON) is %d.%d. Run: make PYTHON=python3.11 (or newer)" % v[:2])'
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	$(BIN)/python manage.py compiletranslations --verbosity 0
	@touch $@

$(DEV_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

migrate: install
	$(BIN)/python manage.py migrate --noinput

# WhiteNoise serves what this collects (config/wsgi.py); files already there are skipped.
static: install
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0

demo: migrate
	$(BIN)/python manage.py demo

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

format: install-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

migrations-check: install
	$(BIN)/python manage.py makemigrations --check --dry-run

serve: install ## nginx edge cache (:8080) + granian (:8000); PostgreSQL/Redis when DATABASE_URL/REDIS_URL are set
	@command -v nginx >/dev/null 2>&1 || test -x /usr/sbin/nginx || { echo "make serve needs nginx: sudo apt-get install -y nginx (its system service need not run)"; exit 1; }
	$(BIN)/python deploy/nginx/local.py

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
