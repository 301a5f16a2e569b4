# Quick start: `make run` (dashboard on demo data) and `make test` (the whole suite, both engines).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8501
ADDRESS ?= localhost
ROWS ?= 10000000
PYTEST_ARGS ?=

.PHONY: run demo test screenshots system-deps bench bench-smoke clean

$(VENV)/.installed: requirements.txt requirements-test.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-test.txt
	touch $@

run: $(VENV)/.installed
	$(PY) -m data_access.demo --if-empty
	$(PY) -m streamlit run app.py --server.address $(ADDRESS) --server.port $(PORT) --server.headless true

demo: $(VENV)/.installed
	$(PY) -m data_access.demo --rows 200000

system-deps:
	bash .ci/system-deps

test: $(VENV)/.installed system-deps
	bash .ci/with-postgres $(PY) -m pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

# the README's pictures of both pages, taken again by the browser test that checks them
screenshots: $(VENV)/.installed system-deps
	UPDATE_SCREENSHOTS=1 $(PY) -m pytest tests/test_browser_pages.py -k screenshots

bench: $(VENV)/.installed system-deps
	bash .ci/with-postgres $(PY) -m bench --rows $(ROWS)

bench-smoke: $(VENV)/.installed system-deps
	bash .ci/with-postgres $(PY) -m bench --rows 50000 --pg-rows 50000 --out test-output/bench-smoke.json --ingest-messages 5000 --webhook-seconds 5 --webhook-sessions 1 --sessions-seconds 4 --sessions-levels 1,2 --pg-sessions-levels 2 --pg-webhook-seconds 0

clean:
	rm -rf $(VENV) data test-output .pytest_cache
