# voxregen: `make install`, `make test`, `make bench`, `make load`, `make run`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install test lint bench load run clean

install: $(STAMP)

# Said first, and pip shows each package as it goes (no --quiet): the first `make run` is not a
# silent minute. Later runs skip this until pyproject.toml changes.
$(STAMP): pyproject.toml
	@echo "voxregen: installing voxregen and its dependencies into $(VENV) (a minute or two, once)..."
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install -e '.[dev]'
	touch $(STAMP)
	@echo "voxregen: installed; $(BIN)/voxregen is ready"

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
