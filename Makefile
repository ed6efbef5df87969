# meterread: the two commands a new machine needs.
#   make run    installs what is missing (Debian packages, .venv) and starts the service on SQLite,
#               with a demo operator, reviewer, customer, account and meter
#   make test   installs what is missing (Chromium; PostgreSQL via scripts/postgres.sh) and runs the whole test suite,
#               on SQLite and on a real PostgreSQL server it starts
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
APT_RUN := python3-venv tesseract-ocr tesseract-ocr-eng
APT_TEST := $(APT_RUN) chromium
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install install-dev system-run system-test eval bench bench-service clean

system-run:
	@bash scripts/apt-ensure.sh $(APT_RUN)

system-test:
	@bash scripts/apt-ensure.sh $(APT_TEST)

$(VENV)/bin/python:
	python3 -m venv $(VENV)

install: system-run $(VENV)/bin/python
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e .

install-dev: system-test $(VENV)/bin/python
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e '.[dev]'

run: install
	$(VENV)/bin/meterread demo
	$(VENV)/bin/meterread serve --host $(HOST) --port $(PORT)

# PostgreSQL must start: METERREAD_REQUIRE_POSTGRES turns its skipped cases into failures
test: install-dev
	@pg="$$(bash scripts/postgres.sh)" || { echo "make test: PostgreSQL did not start (scripts/postgres.sh)" >&2; exit 1; }; \
	eval "$$(grep '^export ' <<<"$$pg")"; \
	[ -n "$${TEST_POSTGRES_URL:-}" ] || { echo "make test: scripts/postgres.sh gave no TEST_POSTGRES_URL" >&2; exit 1; }; \
	echo "TEST_POSTGRES_URL=$$TEST_POSTGRES_URL"; \
	METERREAD_REQUIRE_POSTGRES=1 MR_CHROMIUM=/usr/bin/chromium $(PY) -m pytest -q -p no:cacheprovider

eval: install
	$(VENV)/bin/meterread eval ../shared/data/photos/labels.csv

bench: install
	$(VENV)/bin/python bench/bench_pipeline.py

# the service under load: Debian's `hey` load generator against `meterread serve` on loopback
bench-service: install
	@bash scripts/apt-ensure.sh hey
	$(VENV)/bin/python bench/load_service.py

clean:
	rm -rf $(VENV) var build *.egg-info
