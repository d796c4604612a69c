# eocat — everything a newcomer needs: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export EOCAT_DB ?= data/eocat.db

.PHONY: install test demo serve bench bench-quick lint format clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

test: install
	$(BIN)/python -m pytest -n 2 -q

lint: install
	$(BIN)/ruff check catalog indexer emulators eocat tests bench
	$(BIN)/ruff format --check catalog indexer emulators eocat tests bench
	$(BIN)/mypy

format: install
	$(BIN)/ruff format catalog indexer emulators eocat tests bench
	$(BIN)/ruff check --fix catalog indexer emulators eocat tests bench

# The main job end to end against the local emulators (see eocat/demo.py and the README).
demo: install
	$(BIN)/python -m eocat.demo

serve: install
	@echo "eocat serve arrives with the STAC API issue; nothing to serve yet." && exit 1

bench: install
	$(BIN)/python -m bench.run

bench-quick: install
	$(BIN)/python -m bench.run --quick

clean:
	rm -rf $(VENV) data bench/work
