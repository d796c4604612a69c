# eocat — everything a newcomer needs: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export EOCAT_DB ?= data/eocat.db

.PHONY: install test demo serve harvest bench bench-quick lint format clean browser chromium spark pg

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

test: install browser chromium spark pg
	$(BIN)/python -m pytest -n 2 -q

lint: install
	$(BIN)/ruff check catalog indexer emulators eocat processing tests bench
	$(BIN)/ruff format --check catalog indexer emulators eocat processing tests bench
	$(BIN)/mypy

format: install
	$(BIN)/ruff format catalog indexer emulators eocat processing tests bench
	$(BIN)/ruff check --fix catalog indexer emulators eocat processing tests bench

# The main job end to end against the local emulators (see eocat/demo.py and the README).
demo: install
	$(BIN)/python -m eocat.demo

# The STAC API and STAC Browser over the demo catalogue (`make demo` first), or EOCAT_DB=… make serve.
SERVE_DB ?= $(if $(wildcard data/demo/eocat.db),data/demo/eocat.db,$(EOCAT_DB))
serve: install browser
	$(BIN)/eocat --db $(SERVE_DB) serve --host $(or $(HOST),127.0.0.1) --port $(or $(PORT),8000) \
		--browser-dir "$$(sh browser/build.sh)" $(if $(BASE_URL),--base-url $(BASE_URL))

# STAC Browser, built once into ~/.cache/eocat/ (keyed on browser/package.json and build.sh).
browser:
	@command -v npm >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq npm; }
	@sh browser/build.sh >/dev/null

# Headless Chromium for the STAC Browser test (Debian package; the test fails without it).
chromium:
	@test -x /usr/bin/chromium || { apt-get update -qq && apt-get install -y -qq chromium; }

# PySpark and a Java runtime for the Spark recipe over the GeoParquet lake (tests/test_lake_spark.py).
spark: install
	@command -v java >/dev/null 2>&1 || { apt-get update -qq && \
		apt-get install -y -qq -o DPkg::Lock::Timeout=900 openjdk-17-jre-headless; }
	@$(BIN)/python -c "import pyspark" 2>/dev/null || $(BIN)/python -m pip install --quiet 'pyspark>=4.0'

# PostgreSQL + PostGIS server binaries for the pgstac backend (Debian packages); the tests start
# their own throwaway cluster with them, so nothing listens until a test runs.
PG_VERSION ?= 15
pg:
	@test -x /usr/lib/postgresql/$(PG_VERSION)/bin/initdb -a -f /usr/share/postgresql/$(PG_VERSION)/extension/postgis.control \
		|| { apt-get update -qq && apt-get install -y -qq -o DPkg::Lock::Timeout=900 \
			postgresql-$(PG_VERSION) postgresql-$(PG_VERSION)-postgis-3; }

# The real services (credentials from the environment or ~/.netrc, never the command line), into $(EOCAT_DB):
#   make harvest BBOX=5,44,16,52 START=2025-06-01 END=2025-06-30 [AOI=area.geojson] [CLOUD=20] [CONTINENT=Europe]
#   SOURCES picks among s2 s1 cdse-bursts asf-bursts destine (default: all of them).
SOURCES ?= s2 s1 cdse-bursts asf-bursts destine
AREA = $(if $(AOI),--intersects $(AOI),$(if $(BBOX),--bbox $(BBOX)))
harvest: install
	@test -n "$(START)" -a -n "$(END)" || { echo "make harvest needs START=YYYY-MM-DD END=YYYY-MM-DD (and BBOX= or AOI=)"; exit 2; }
	$(if $(filter s2,$(SOURCES)),$(BIN)/eocat harvest cdse --collection SENTINEL-2 --product-type S2MSI2A $(AREA) \
		--datetime $(START)/$(END) $(if $(CLOUD),--cloud-cover-max $(CLOUD)))
	$(if $(filter s1,$(SOURCES)),$(BIN)/eocat harvest cdse --collection SENTINEL-1 --product-type IW_SLC__1S $(AREA) \
		--datetime $(START)/$(END))
	$(if $(filter cdse-bursts,$(SOURCES)),$(BIN)/eocat harvest cdse-bursts $(AREA) --datetime $(START)/$(END))
	$(if $(filter asf-bursts,$(SOURCES)),$(BIN)/eocat harvest asf-bursts $(AREA) --datetime $(START)/$(END))
	$(if $(filter destine,$(SOURCES)),$(BIN)/eocat harvest destine --continent $(or $(CONTINENT),Europe) \
		--datetime $(START)/$(END))

bench: install
	$(BIN)/python -m bench.run

bench-quick: install
	$(BIN)/python -m bench.run --quick

clean:
	rm -rf $(VENV) data bench/work
