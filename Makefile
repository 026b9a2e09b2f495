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

## make test: install and run the whole suite; PostgreSQL and Redis tests join when the servers answer.
test: install
	@if [ -z "$$TEST_DATABASE_URL" ] && command -v pg_isready >/dev/null && pg_isready -q -h 127.0.0.1 -p 5432; then \
	  export TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres REQUIRE_POSTGRES=1; fi; \
	if [ -z "$$REDIS_URL" ] && command -v redis-cli >/dev/null && redis-cli -h 127.0.0.1 ping >/dev/null 2>&1; then \
	  export REDIS_URL=redis://127.0.0.1:6379/0 REQUIRE_REDIS=1; fi; \
	echo "PostgreSQL tests: $${TEST_DATABASE_URL:-skipped (no server)}  Redis tests: $${REDIS_URL:-skipped (no server)}"; \
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

clean-dev:
	rm -rf instance

## make bench: run the benchmarks in bench/ (installs nginx and wrk with apt-get when missing) and rewrite docs/PERFORMANCE.md.
.PHONY: bench
bench: install
	$(BIN)/python bench/run.py
