# Two commands set CoreTet up on a fresh machine: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
export FLASK_APP := app.py

.PHONY: install run test clean-dev

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

## make run: virtualenv, install, migrate (SQLite unless DATABASE_URL is set), demo data once, serve.
run: install
	mkdir -p instance
	$(BIN)/flask db upgrade
	$(BIN)/flask seed-demo
	@echo ""
	@echo "  CoreTet is running at http://$(HOST):$(PORT)  (texts and emails: http://$(HOST):$(PORT)/dev/outbox)"
	@echo ""
	$(BIN)/flask run --host $(HOST) --port $(PORT)

# Shell lines shared by `test` and `e2e`: use PostgreSQL and Redis on 127.0.0.1 when they answer.
define find_servers
if [ -z "$$TEST_DATABASE_URL" ] && command -v pg_isready >/dev/null && pg_isready -q -h 127.0.0.1 -p 5432; then \
  export TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres REQUIRE_POSTGRES=1; fi; \
if [ -z "$$REDIS_URL" ] && command -v redis-cli >/dev/null && redis-cli -h 127.0.0.1 ping >/dev/null 2>&1; then \
  export REDIS_URL=redis://127.0.0.1:6379/0 REQUIRE_REDIS=1; fi
endef

# The browser tests drive Debian's Chromium (Playwright cannot download its own here); installed
# with apt-get when missing and we are root, as .ci/run does.
define install_chromium
if [ ! -x /usr/bin/chromium ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
  echo "Installing Debian's chromium for the browser tests ..."; \
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; fi
endef

## make test: install and run the whole suite, browser journeys included; PostgreSQL, Redis and Chromium tests join when available.
test: install
	@$(install_chromium); \
	$(find_servers); \
	echo "PostgreSQL tests: $${TEST_DATABASE_URL:-skipped (no server)}  Redis tests: $${REDIS_URL:-skipped (no server)}"; \
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

## make e2e: only the browser journeys (tests/e2e): Chromium against gunicorn + worker.py on PostgreSQL and Redis.
.PHONY: e2e
e2e: install
	@$(install_chromium); \
	if [ ! -x /usr/bin/chromium ]; then \
	  echo "make e2e needs Debian's Chromium at /usr/bin/chromium: run 'sudo apt-get install chromium' (or make e2e as root)."; exit 1; fi; \
	$(find_servers); \
	if [ -z "$$TEST_DATABASE_URL" ] || [ -z "$$REDIS_URL" ]; then \
	  echo "make e2e needs PostgreSQL on 127.0.0.1:5432 and Redis on 127.0.0.1:6379 (or TEST_DATABASE_URL and REDIS_URL); .ci/run starts both."; exit 1; fi; \
	REQUIRE_E2E=1 $(BIN)/python -m pytest -q -m e2e tests/e2e $(PYTEST_ARGS)

clean-dev:
	rm -rf instance

## make bench: run the benchmarks in bench/ (installs nginx and wrk with apt-get when missing) and rewrite docs/PERFORMANCE.md.
.PHONY: bench
bench: install
	$(BIN)/python bench/run.py
