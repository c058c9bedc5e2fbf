# voxregen: `make install`, `make test`, `make bench`, `make load`, `make run`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install test lint bench load run clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

lint: install
	$(BIN)/lint-imports
	$(BIN)/ruff check .

test: lint
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python -m benchmarks.bench_render

# Load and scale (docs/reliability.md): real api and worker processes over PostgreSQL and Redis on localhost.
load: install
	$(BIN)/python -m benchmarks.load

# The whole service on this machine: embedded PostgreSQL and Redis, data in .voxregen/ (Ctrl-C stops it).
run: install
	$(BIN)/voxregen serve --data-dir .voxregen

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .voxregen
