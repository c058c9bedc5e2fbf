# voxregen: `make install`, `make test`, `make lock`, `make bench`, `make load`, `make run`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install test lint lock bench load run clean

install: $(STAMP)

# Said first, and pip shows each package as it goes (no --quiet): the first `make run` is not a
# silent minute. Later runs skip this until pyproject.toml or constraints.txt changes. Every
# version, pip's own included, is the one constraints.txt pins (`make lock` refreshes it).
$(STAMP): pyproject.toml constraints.txt
	@echo "voxregen: installing voxregen and its dependencies into $(VENV) (a minute or two, once)..."
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -c constraints.txt --upgrade pip
	$(BIN)/pip install -c constraints.txt -e '.[dev]'
	touch $(STAMP)
	@echo "voxregen: installed; $(BIN)/voxregen is ready"

lint: install
	$(BIN)/lint-imports
	$(BIN)/ruff check .

# Every test but the end-to-end and browser ones runs TEST_WORKERS at a time (pytest-xdist: each
# test has a database, a Redis index and folders of its own); those two, whose services are
# timed against deadlines, then run one at a time.
SERIAL_TESTS = tests/e2e tests/browser
TEST_WORKERS ?= 2
test: lint
	$(BIN)/python -m pytest -n $(TEST_WORKERS) $(SERIAL_TESTS:%=--ignore=%)
	$(BIN)/python -m pytest $(SERIAL_TESTS)

# constraints.txt: the newest versions pyproject.toml's ranges allow, dev tools included, for this
# platform (Linux, Python 3.11), resolved by pip-compile (pip-tools); the next `make install`
# installs them. Needs only pip-tools, not the project installed: a raised lower bound that the
# old pins refuse is what this fixes.
lock:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -c constraints.txt --upgrade pip pip-tools
	CUSTOM_COMPILE_COMMAND="make lock" $(BIN)/pip-compile --quiet --upgrade --extra dev \
		--strip-extras --allow-unsafe --no-emit-index-url --no-emit-find-links \
		--output-file constraints.txt pyproject.toml

# docs/benchmarks.md, every figure with the machine and the command (a few minutes): the 8-minute
# stem on the CLI (2 cores and 1), the service and ffmpeg; the largest stem; kill -9 recovery.
bench: install
	$(BIN)/python -m benchmarks.bench_render
	$(BIN)/python -m benchmarks.bench_largest_stem
	$(BIN)/python -m benchmarks.recovery --runs 3

# Load and scale (docs/reliability.md), then fairness between users (docs/benchmarks.md): real api
# and worker processes over PostgreSQL and Redis on localhost.
load: install
	$(BIN)/python -m benchmarks.load
	$(BIN)/python -m benchmarks.fairness

# The whole service on this machine: embedded PostgreSQL and Redis, data in .voxregen/ (Ctrl-C stops it).
run: install
	$(BIN)/voxregen serve --data-dir .voxregen

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .voxregen
