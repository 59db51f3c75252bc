# Rapport: `make demo` runs the demo clinic, `make test` runs the whole suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 5000
CHROMIUM ?= /usr/bin/chromium
# pytest-xdist: one worker per core; each worker has its own test database (tests/support/databases.py).
# --dist loadfile keeps a module on one worker (its scene is built once; the matrix's coverage gate
# needs all of its cells in one process); --no-loadscope-reorder hands modules out in the order
# tests/conftest.py gives them, the long ones first.
PYTEST_PARALLEL ?= -n auto --dist loadfile --no-loadscope-reorder

.PHONY: demo test test-fast lint typecheck security pytest vnu clean-db sqlmap bench translations compile-translations

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.runtime-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.dev-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(VENV)/.runtime-installed $@

# axe-core (the browser tests' accessibility checker) and vnu-jar (the W3C Nu HTML checker, run on
# Java by tests/test_valid_html.py) from the npm registry, pinned in package-lock.json.
node_modules/axe-core/axe.min.js: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

demo: $(VENV)/.runtime-installed
	mkdir -p instance
	$(BIN)/flask --app wsgi db upgrade heads
	$(BIN)/flask --app wsgi demo-data
	@echo ""
	@echo "Rapport demo: http://127.0.0.1:$(PORT)   (Ctrl-C stops it)"
	PORT=$(PORT) $(BIN)/flask --app wsgi run --host 127.0.0.1 --port $(PORT)

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check portal tests migrations wsgi.py bench
	$(BIN)/ruff format --check portal tests migrations wsgi.py bench

typecheck: $(VENV)/.dev-installed
	$(BIN)/mypy

# Static security gates: bandit on the app code, and the XS-02 rule against unsafe rendering.
security: $(VENV)/.dev-installed
	$(BIN)/bandit -q -c pyproject.toml -r portal
	$(BIN)/python .ci/check_unsafe_rendering.py

pytest: $(VENV)/.dev-installed node_modules/axe-core/axe.min.js
	@if [ -x "$(CHROMIUM)" ]; then echo "Browser tests: using $(CHROMIUM)"; \
	else echo "NOTE: Chromium is absent ($(CHROMIUM)): the browser tests will be SKIPPED. Install it with: apt-get install chromium"; fi
	@if command -v java >/dev/null; then echo "HTML validity (vnu): using $$(command -v java)"; \
	else echo "NOTE: Java is absent: the HTML validity check (vnu) will be SKIPPED. Install it with: apt-get install default-jre-headless"; fi
	$(BIN)/pytest $(PYTEST_PARALLEL)

# Issue 16: only the W3C Nu HTML checker over every page the demo people reach (one JVM, ~1 minute).
vnu: $(VENV)/.dev-installed node_modules/axe-core/axe.min.js
	$(BIN)/pytest -m vnu -p no:logging tests/test_valid_html.py

test: lint typecheck security pytest

# The quick loop while working: everything but the browser journeys and the full access matrix.
test-fast: $(VENV)/.dev-installed
	$(BIN)/pytest $(PYTEST_PARALLEL) -q -m "not browser and not matrix and not vnu"

# IN-01: sqlmap against a throwaway local server (not part of `make test`: minutes of CPU).
sqlmap: $(VENV)/.dev-installed
	$(BIN)/pip install --quiet sqlmap==1.10.10
	bash .ci/sqlmap.sh

clean-db:
	rm -f instance/rapport.db instance/rapport.db-wal instance/rapport.db-shm

# Issue 9: the benchmark (not part of `make test`). BENCH_SCALE=0.02 for a quick small run;
# DATABASE_URL=postgresql://... for PostgreSQL; BENCH_SERVERS=2 REDIS_URL=redis://... for two servers.
bench: $(VENV)/.runtime-installed
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk) \
		|| (sudo apt-get update -qq && sudo apt-get install -y -qq wrk)
	mkdir -p bench/data
	$(BIN)/python -m bench.run
# Languages (issue 8): `make translations` extracts every _() / _l() / {% trans %} into the
# catalog template and merges it into each language's .po; fill in the new msgstr lines, then
# `make compile-translations` writes the .mo that is committed with the .po.
CATALOGS := portal/translations

translations: $(VENV)/.dev-installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --sort-by-file \
		--project Rapport --no-wrap -o $(CATALOGS)/messages.pot .
	$(BIN)/pybabel update --no-wrap --ignore-obsolete -i $(CATALOGS)/messages.pot -d $(CATALOGS)

compile-translations: $(VENV)/.dev-installed
	$(BIN)/pybabel compile --statistics -d $(CATALOGS)
