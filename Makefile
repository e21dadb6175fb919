# Vitrine: two commands, `make demo` and `make test`. Both create the environment when it is missing.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
# Real photos for the simulated sales when the shared data set is there; override with `make demo PHOTOS=DIR`
# (PHOTOS= gives generated placeholder images).
PHOTOS ?= $(wildcard ../shared/datasets/scene-photos)
DEMO_USERS ?= 2000
DEMO_DAYS ?= 120
DEMO_SALES_PER_DAY ?= 20
DEMO_SEED ?= 7

# Telemetry off for everything the targets start.
export DBT_SEND_ANONYMOUS_USAGE_STATS := False
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1

.PHONY: demo test lint bench env clean browser java nightly duckdb1-client docs

env: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	@echo "Installing the pinned dependencies into $(VENV) (pip: errors only)"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --quiet --disable-pip-version-check --upgrade pip
	@$(BIN)/python -m pip install --quiet --quiet --disable-pip-version-check -c constraints.txt -e '.[test,spark]'
	@touch $@

demo: env
	$(BIN)/vitrine demo --users $(DEMO_USERS) --days $(DEMO_DAYS) --sales-per-day $(DEMO_SALES_PER_DAY) \
		--seed $(DEMO_SEED) $(if $(PHOTOS),--photos $(PHOTOS),)

# Headless Chromium for the report's browser test (Debian packages), installed only when missing.
browser:
	@test -x /usr/bin/chromium || { \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get install -y chromium chromium-driver || \
		{ $$SUDO apt-get update && $$SUDO apt-get install -y chromium chromium-driver; }; }

# A Java runtime for the Spark target's test (tests/test_spark.py; Debian's OpenJDK 17), installed only when missing.
java:
	@command -v java >/dev/null || { \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get install -y openjdk-17-jre-headless || \
		{ $$SUDO apt-get update && $$SUDO apt-get install -y openjdk-17-jre-headless; }; }

# A DuckDB 1.x client (what many BI drivers bundle) in its own environment, for the serving copy's compatibility
# test (tests/test_serving_compat.py); installed only when missing.
DUCKDB1_VENV := .venv-duckdb1
DUCKDB1_VERSION ?= 1.1.3
duckdb1-client: $(DUCKDB1_VENV)/.installed-$(DUCKDB1_VERSION)

$(DUCKDB1_VENV)/.installed-$(DUCKDB1_VERSION):
	test -x $(DUCKDB1_VENV)/bin/python || $(PYTHON) -m venv $(DUCKDB1_VENV)
	$(DUCKDB1_VENV)/bin/python -m pip install --quiet duckdb==$(DUCKDB1_VERSION)
	touch $@

test: env browser java duckdb1-client
	$(BIN)/ruff check .
	VITRINE_REQUIRE_BROWSER=1 VITRINE_REQUIRE_DUCKDB1=1 VITRINE_REQUIRE_SPARK=1 $(BIN)/python -m pytest

# One night on the warehouse (see README: Scheduling the night); DATE=YYYY-MM-DD, LANDING=DIR optional.
nightly: env
	$(BIN)/vitrine nightly $(if $(DATE),--date $(DATE),) $(if $(LANDING),--landing $(LANDING),)

# dbt's documentation of the built warehouse (after `make demo`) as one static page; open the path it prints.
docs: env
	$(BIN)/vitrine docs

bench: env
	$(BIN)/python benchmarks/bench_foundation.py

clean:
	rm -rf warehouse dbt_project/target dbt_project/logs
