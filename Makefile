# voxregen: `make install`, `make test`, `make bench`, `make run`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install test lint bench run clean

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

# Until the service lands (`voxregen serve`), `make run` renders a synthetic 40 s demo stem.
DEMO := .voxregen/demo
run: install
	mkdir -p $(DEMO)
	$(BIN)/python -m tests.signals $(DEMO)/in.wav --seconds 40 --rate 44100 --stereo
	$(BIN)/voxregen render $(DEMO)/in.wav -o $(DEMO)/out.wav --metrics $(DEMO)/metrics.json \
		--cache-dir .voxregen/cache
	@echo "wrote $(DEMO)/out.wav and $(DEMO)/metrics.json"

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .voxregen
