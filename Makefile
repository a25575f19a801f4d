# Aduana — the two-command quickstart is `make demo` then `make test`; both bootstrap .venv.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: help venv demo test test-fast test-pg lint typecheck policy-test bench bench-vault clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $(STAMP)

venv: $(STAMP)  ## create .venv and install Aduana with its test tools

demo: $(STAMP)  ## run the end-to-end demo: helpdesk, gateway, vendor, auditor
	$(BIN)/python examples/demo/run_demo.py

# The storage tests also run against PostgreSQL: tests/pg.py starts a throwaway PostgreSQL 15 cluster on
# 127.0.0.1 (from /usr/lib/postgresql/*/bin, as `nobody` when run as root) and removes it afterwards; with
# no server binary those tests are skipped with a banner. ADUANA_TEST_PG_URL=postgresql://… uses your own.
test: lint  ## lint, then the whole test suite (unit, end-to-end, shipped policy packs)
	$(BIN)/python -m pytest -n 2 --dist loadgroup
	$(BIN)/aduana policy test

test-pg: $(STAMP)  ## only the tests that run against PostgreSQL
	$(BIN)/python -m pytest -m postgres -n 2 --dist loadgroup

test-fast: $(STAMP)  ## unit tests only (no servers)
	$(BIN)/python -m pytest -m "not e2e" -n 2

lint: $(STAMP)  ## ruff and mypy
	$(BIN)/ruff check gateway plugins tests examples bench
	$(BIN)/mypy gateway

bench: $(STAMP)  ## performance and accuracy benchmarks (see docs/performance.md)
	$(BIN)/python bench/run_all.py

bench-vault: $(STAMP)  ## vault tokenize/restore throughput on SQLite (see docs/performance.md)
	$(BIN)/python bench/vault_bench.py

clean:  ## remove the virtualenv and generated state
	rm -rf $(VENV) .demo .pytest_cache .mypy_cache .ruff_cache
