# Two commands: `make run` and `make test`. Each creates .venv and installs as needed.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app wsgi
STAMP := $(VENV)/.installed
CATALOGS := opsroom/translations
PORT ?= 5000

.PHONY: run test test-sqlite test-browser translations extract bench clean

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
	@echo "    admin@park.demo  manager@park.demo  coordinator@park.demo  anchor@park.demo"
	@echo ""
	OPSROOM_INSECURE_COOKIES=1 OPSROOM_EMBED_SCHEDULER=1 $(FLASK) run --host 127.0.0.1 --port $(PORT)

test: $(STAMP) translations
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) bench/bench_bookings.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
