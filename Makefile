# crmcli: everything a developer or CI runs. `make test` needs nothing but python3 and git.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO   ?= build/demo-records

.PHONY: help install browser-deps test test-browser lint bench bench-quick bench-import demo clean

help:
	@echo "make demo   - install, then run crm on a copy of the bundled records/ sample"
	@echo "make test   - install into $(VENV) and run the test suite"
	@echo "make test-browser - only the headless Chromium tests (web site and HTML reports)"
	@echo "make lint   - ruff, mypy on the library, and the import contracts (import-linter)"
	@echo "make bench  - benchmark at 100, 10,000 and 100,000 customers (long; BENCH_SIZES to choose)"
	@echo "make bench-import - time crm import: 10,000 deals with full history, 100,000 interactions"
	@echo "make clean  - remove the venv, caches and build output"

$(STAMP): setup.cfg pyproject.toml
	@command -v git >/dev/null || { echo "git is required: apt-get install -y git" >&2; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test,dev]'
	touch $(STAMP)

install: $(STAMP)

# The browser tests need Chromium and a font with Chinese glyphs (Debian: chromium, fonts-wqy-microhei).
# Installed here when missing and apt-get can (as root); otherwise those tests are skipped, saying why.
browser-deps:
	@command -v chromium >/dev/null 2>&1 || { command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] \
	  && apt-get update -q && apt-get install -y -q chromium fonts-wqy-microhei; } \
	  || echo "note: chromium is not installed; the browser tests will be skipped" >&2

test: $(STAMP) browser-deps
	$(BIN)/python -m pytest -q -p no:cacheprovider -n $${PYTEST_WORKERS:-2}

test-browser: $(STAMP) browser-deps
	$(BIN)/python -m pytest -q -p no:cacheprovider -n 0 -m browser

lint: $(STAMP)
	$(BIN)/ruff check crmcli tests bench
	$(BIN)/mypy crmcli
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/python -m bench.run $(BENCH_ARGS)
	$(BIN)/python -m bench.table

bench-import: $(STAMP)
	$(BIN)/python -m bench.import_dated $(BENCH_ARGS)

bench-quick: $(STAMP)
	$(BIN)/python -m bench.run --sizes 100,1000 --repeat 3

demo: $(STAMP)
	@bash scripts/demo.sh $(DEMO)

clean:
	rm -rf $(VENV) build .pytest_cache .ruff_cache .mypy_cache .hypothesis *.egg-info bench/data
