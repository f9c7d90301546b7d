# Two commands: `make run` and `make test`. Each creates .venv and installs as needed.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app wsgi
STAMP := $(VENV)/.installed
CATALOGS := opsroom/translations
PORT ?= 5000

.PHONY: run test test-sqlite test-browser translations extract bench vendor clean fuzz screenshot

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

translations: $(STAMP)
	$(VENV)/bin/pybabel -q compile -f -d $(CATALOGS)

# Re-extract messages and merge them into the catalogs (developers only).
extract: $(STAMP)
	$(VENV)/bin/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o $(CATALOGS)/messages.pot .
	$(VENV)/bin/pybabel -q update -N -i $(CATALOGS)/messages.pot -d $(CATALOGS)

run: $(STAMP) translations
	$(FLASK) init-db
	$(FLASK) seed-demo --if-empty
	@echo ""
	@echo "  opsroom: http://127.0.0.1:$(PORT)/"
	@echo "  demo logins (password opsroom-demo):"
	@echo "    admin@park.demo  manager@park.demo  coordinator@park.demo  anchor@park.demo  tenant@park.demo"
	@echo ""
	OPSROOM_INSECURE_COOKIES=1 OPSROOM_EMBED_SCHEDULER=1 $(FLASK) run --host 127.0.0.1 --port $(PORT)

# The suite in PYTEST_WORKERS processes (pytest-xdist), each test file whole in one
# process (its module fixtures, its servers); PYTEST_WORKERS=0: in this process.
PYTEST_WORKERS ?= 2
test: $(STAMP) translations
	$(PY) -m pytest $(if $(filter-out 0,$(PYTEST_WORKERS)),-n $(PYTEST_WORKERS) --dist loadfile)

# Park-scale benchmark through gunicorn:
# `make bench [SCALE=200] [DB=sqlite|postgres|both] [QUICK=1] [ONLY=board]` (ONLY=ingest,/me: several).
SCALE ?=
DB ?= both
QUICK ?=
ONLY ?=
bench: $(STAMP) translations
	$(PY) bench/run.py --db $(DB) $(if $(SCALE),--scale $(SCALE)) $(if $(QUICK),--quick) $(if $(ONLY),--only "$(ONLY)")

# The long API fuzzing run: schemathesis, all checks, every role, 200
# examples per operation, on SQLite (and PostgreSQL when OPSROOM_TEST_POSTGRES_URL is set).
fuzz: $(STAMP)
	OPSROOM_FUZZ_LONG=1 $(PY) -m pytest tests/live/test_api_fuzz.py -q -s

# Front-end libraries come from the npm registry, never a CDN: `make vendor`
# refreshes them (needs npm; the result is committed under static/vendor/).
ECHARTS_VERSION ?= 6.1.0
# axe-core is loaded by the accessibility tests only (tests/browser/test_accessibility.py), never by a page.
AXE_VERSION ?= 4.14.1
vendor:
	rm -rf .vendor-tmp && mkdir -p .vendor-tmp static/vendor/echarts
	cd .vendor-tmp && npm pack --silent echarts@$(ECHARTS_VERSION) >/dev/null && tar xzf echarts-$(ECHARTS_VERSION).tgz
	cp .vendor-tmp/package/dist/echarts.min.js .vendor-tmp/package/LICENSE .vendor-tmp/package/NOTICE static/vendor/echarts/
	echo "echarts $(ECHARTS_VERSION) (npm registry), dist/echarts.min.js with its LICENSE and NOTICE; refresh with 'make vendor'." > static/vendor/echarts/VERSION
	rm -rf .vendor-tmp && mkdir -p .vendor-tmp static/vendor/axe-core
	cd .vendor-tmp && npm pack --silent axe-core@$(AXE_VERSION) >/dev/null && tar xzf axe-core-$(AXE_VERSION).tgz
	cp .vendor-tmp/package/axe.min.js .vendor-tmp/package/LICENSE .vendor-tmp/package/LICENSE-3RD-PARTY.txt static/vendor/axe-core/
	echo "axe-core $(AXE_VERSION) (npm registry), axe.min.js with its LICENSE (MPL-2.0) and LICENSE-3RD-PARTY.txt; loaded only by the accessibility tests (tests/browser/test_accessibility.py), never by a page; refresh with 'make vendor'." > static/vendor/axe-core/VERSION
	rm -rf .vendor-tmp

# docs/board.png, the README's picture: the demo's board in Chromium (needs a CJK font).
screenshot: $(STAMP) translations
	$(PY) docs/screenshot.py docs/board.png

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
