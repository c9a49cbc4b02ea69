# Haven — developer entry points. See README.md.
PY ?= .venv/bin/python
STACK = python3 deploy/local/stack.py

.PHONY: up down status venv infra test test-fast lint fmt schemas bench bench-quick lock audit

up:            ## venv, Kafka, Redis, topics, the four services; prints their URLs
	$(STACK) up

down:          ## stop everything `make up` started, by pid
	$(STACK) down

status:
	$(STACK) status

venv:          ## the virtualenv, node_modules and their build dependencies only (what lint needs)
	$(STACK) venv

infra:         ## everything but the services (what the tests need)
	$(STACK) test-infra

test: infra    ## the whole suite against the real broker, Redis, Prometheus and Chromium
	$(PY) -m pytest -q $(PYTEST_ARGS)

test-fast: infra
	$(PY) -m pytest -q tests/unit $(PYTEST_ARGS)

lint: venv
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy
	npx --no-install tsc -p services/intake/web
	npx --no-install tsc -p services/intake/web/tsconfig.worker.json

fmt:
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

schemas:       ## regenerate schemas/json from the pydantic models
	$(PY) -m schemas.export

bench: infra   ## every benchmark at full size (tens of minutes); tables + JSON in bench/results/
	$(PY) bench/run_all.py

bench-quick: infra  ## every benchmark in its quick mode (minutes)
	$(PY) bench/run_all.py --quick

UV = .state/uv/bin/uv
LOCK_FLAGS = --python-version 3.11 --python-platform x86_64-unknown-linux-gnu --generate-hashes -q

lock:          ## re-pin requirements.lock (every extra) and requirements-runtime.lock (the image)
	test -x $(UV) || (python3 -m venv .state/uv && .state/uv/bin/pip install -q uv)
	$(UV) pip compile pyproject.toml --extra dev --extra bench --extra cli $(LOCK_FLAGS) -o requirements.lock
	$(UV) pip compile pyproject.toml -c requirements.lock $(LOCK_FLAGS) -o requirements-runtime.lock

audit: venv    ## known vulnerabilities in the locked set (needs PyPI's JSON API or OSV)
	$(PY) -m pip_audit -r requirements.lock --require-hashes --disable-pip --strict --progress-spinner off
