# Haven — developer entry points. See README.md.
PY ?= .venv/bin/python
STACK = python3 deploy/local/stack.py

.PHONY: up down status infra test test-fast lint fmt schemas bench

up:            ## venv, Kafka, Redis, topics, the four services; prints their URLs
	$(STACK) up

down:          ## stop everything `make up` started, by pid
	$(STACK) down

status:
	$(STACK) status

infra:         ## everything but the services (what the tests need)
	$(STACK) test-infra

test: infra    ## the whole suite against the real broker, Redis, Prometheus and Chromium
	$(PY) -m pytest -q $(PYTEST_ARGS)

test-fast: infra
	$(PY) -m pytest -q tests/unit $(PYTEST_ARGS)

lint: infra
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

fmt:
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

schemas:       ## regenerate schemas/json from the pydantic models
	$(PY) -m schemas.export

bench:
	$(PY) bench/run_all.py
