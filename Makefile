# eocat — everything a newcomer needs: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO   := data/demo
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

# Until the harvesters exist the demo imports a generated sample catalogue (see README).
demo: install
	@rm -rf $(DEMO) && mkdir -p $(DEMO)
	@echo "== generating a sample catalogue (synthetic Sentinel-like items; harvesters come later)"
	$(BIN)/python -m emulators.samples --count 20000 --seed 1 --out $(DEMO)/items.ndjson --collections-out $(DEMO)/collections.ndjson
	$(BIN)/eocat --db $(DEMO)/eocat.db import $(DEMO)/collections.ndjson $(DEMO)/items.ndjson
	$(BIN)/eocat --db $(DEMO)/eocat.db collections
	@echo "== Sentinel-2 L2A over central Europe, 2023, cloud cover < 20 %"
	$(BIN)/eocat --db $(DEMO)/eocat.db search --collections sentinel-2-l2a --bbox 0,42,20,55 \
	  --datetime 2023-01-01T00:00:00Z/2023-12-31T23:59:59Z --filter "eo:cloud_cover < 20" --limit 10
	@echo "== how many Sentinel-1 SLC descending VV+VH scenes in 2022 (CQL2)"
	$(BIN)/eocat --db $(DEMO)/eocat.db search --collections sentinel-1-slc --format count \
	  --datetime 2022-01-01T00:00:00Z/2022-12-31T23:59:59Z \
	  --filter "\"sat:orbit_state\" = 'descending' AND A_EQUALS(\"sar:polarizations\", ('VV','VH'))"
	@echo "== items crossing the antimeridian near Fiji (bbox 178,-20,-178,-15)"
	$(BIN)/eocat --db $(DEMO)/eocat.db search --bbox 178,-20,-178,-15 --limit 5
	@echo "== the three least cloudy Sentinel-2 scenes (sort extension), as NDJSON with selected fields"
	$(BIN)/eocat --db $(DEMO)/eocat.db search --collections sentinel-2-l2a --sortby eo:cloud_cover,-datetime \
	  --limit 3 --format ndjson --fields id,properties.eo:cloud_cover
	@echo "== demo done: catalogue at $(DEMO)/eocat.db"

serve: install
	@echo "eocat serve arrives with the STAC API issue; nothing to serve yet." && exit 1

bench: install
	$(BIN)/python -m bench.run

bench-quick: install
	$(BIN)/python -m bench.run --quick

clean:
	rm -rf $(VENV) data bench/work
