# One entry point for everything a developer does. Every install step lives here, so a
# fresh clone on a fresh machine needs nothing but `make run` or `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint bench format clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	$(BIN)/python -c "from matchdesk.matching.exact import compile_ahead; compile_ahead()"
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	$(BIN)/python -c "from matchdesk.matching.exact import compile_ahead; compile_ahead()"
	touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	$(BIN)/matchdesk init
	$(BIN)/matchdesk demo --if-empty
	MATCHDESK_BASE_URL=$${MATCHDESK_BASE_URL:-http://$(HOST):$(PORT)} $(BIN)/matchdesk users bootstrap
	@echo "matchdesk is at http://$(HOST):$(PORT)/  (Ctrl-C stops it)"
	$(BIN)/matchdesk serve --host $(HOST) --port $(PORT)

test: $(VENV)/.installed-dev
	bash scripts/ensure-postgres.sh
	bash scripts/ensure-chromium.sh
	$(BIN)/pytest -q $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

bench: $(VENV)/.installed-dev
	bash scripts/ensure-postgres.sh
	bash scripts/ensure-wrk.sh
	$(BIN)/python benchmarks/bench_import.py
	$(BIN)/python benchmarks/bench_matching.py --sizes 500,3000 --seeds 0,1,2,3 --repeat 2
	$(BIN)/python benchmarks/bench_matching.py --sizes 100000,1000000 --repeat 2
	$(BIN)/python benchmarks/bench_web.py
	$(BIN)/python benchmarks/bench_board.py
	$(BIN)/python benchmarks/bench_delivery.py
	$(BIN)/python benchmarks/bench_rounds.py

format: $(VENV)/.installed-dev
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) build .pytest_cache .mypy_cache .ruff_cache
