# One entry point for everything a developer does. Every install step lives here, so a
# fresh clone on a fresh machine needs nothing but `make run` or `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# `make run PORT=8101` or MATCHDESK_PORT=8101 make run (MATCHDESK_HOST likewise).
HOST ?= $(or $(MATCHDESK_HOST),127.0.0.1)
PORT ?= $(or $(MATCHDESK_PORT),8000)

.PHONY: run test lint bench format clean lock

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Every dependency, direct or not, is pinned in requirements/*.lock (made by `make lock`
# from pyproject.toml), so every machine installs the same versions.
$(VENV)/.installed: pyproject.toml requirements/run.lock | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements/run.lock
	$(BIN)/pip install --quiet --no-deps -e .
	$(BIN)/python -c "from matchdesk.matching.exact import compile_ahead; compile_ahead()"
	touch $@

$(VENV)/.installed-dev: pyproject.toml requirements/dev.lock | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements/dev.lock
	$(BIN)/pip install --quiet --no-deps -e .
	$(BIN)/python -c "from matchdesk.matching.exact import compile_ahead; compile_ahead()"
	touch $@ $(VENV)/.installed

# The benchmarks also need what they compare matchdesk with (DuckDB, polars, pyarrow).
$(VENV)/.installed-bench: pyproject.toml requirements/bench.lock | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements/bench.lock
	$(BIN)/pip install --quiet --no-deps -e .
	$(BIN)/python -c "from matchdesk.matching.exact import compile_ahead; compile_ahead()"
	touch $@ $(VENV)/.installed-dev $(VENV)/.installed

run: $(VENV)/.installed
	$(BIN)/matchdesk init
	$(BIN)/matchdesk demo --if-empty
	MATCHDESK_HOST=$(HOST) MATCHDESK_PORT=$(PORT) $(BIN)/matchdesk users bootstrap
	@echo "matchdesk is at http://$(HOST):$(PORT)/  (Ctrl-C stops it)"
	$(BIN)/matchdesk serve --host $(HOST) --port $(PORT)

# Two test processes (pytest-xdist): most tests wait on PostgreSQL, Chromium or SMTP, so
# two share two cores well; each has its own PostgreSQL schema and Chromium.
test: $(VENV)/.installed-dev
	bash scripts/ensure-postgres.sh
	bash scripts/ensure-chromium.sh
	$(BIN)/pytest -q -n 2 $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

bench: $(VENV)/.installed-bench
	bash scripts/ensure-postgres.sh
	bash scripts/ensure-wrk.sh
	bash scripts/ensure-smtp-sink.sh
	$(BIN)/python benchmarks/bench_import.py
	$(BIN)/python benchmarks/bench_results.py
	$(BIN)/python benchmarks/bench_matching.py --sizes 500,3000 --seeds 0,1,2,3 --repeat 2
	$(BIN)/python benchmarks/bench_matching.py --sizes 100000,1000000 --repeat 2
	$(BIN)/python benchmarks/bench_web.py
	$(BIN)/python benchmarks/bench_board.py
	$(BIN)/python benchmarks/bench_delivery.py
	$(BIN)/python benchmarks/bench_rounds.py
	$(BIN)/python benchmarks/bench_i18n.py
	$(BIN)/python benchmarks/bench_uplift.py
	$(BIN)/python benchmarks/bench_tier_review.py
	$(BIN)/python benchmarks/bench_checkins.py
	$(BIN)/python benchmarks/bench_reports.py
	$(BIN)/python benchmarks/bench_report_pages.py
	$(BIN)/python benchmarks/bench_outreach.py --backends postgresql sqlite

format: $(VENV)/.installed-dev
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix .

# Re-pin every dependency after a change to pyproject.toml (newest versions that fit it).
# The widest set (bench) first; dev and run are pinned within it (-c), so a package in
# two lock files has one version and `make bench` leaves the tests' versions in place.
LOCK := $(BIN)/pip-compile --quiet --no-emit-index-url --no-emit-find-links --strip-extras
lock: | $(BIN)/python
	$(BIN)/pip install --quiet pip-tools
	$(LOCK) --upgrade --extra dev --extra bench -o requirements/bench.lock pyproject.toml
	$(LOCK) --upgrade --extra dev -c requirements/bench.lock -o requirements/dev.lock pyproject.toml
	$(LOCK) --upgrade -c requirements/bench.lock -o requirements/run.lock pyproject.toml

clean:
	rm -rf $(VENV) build .pytest_cache .mypy_cache .ruff_cache
