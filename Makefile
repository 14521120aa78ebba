# One command to set up and run the demo; one to set up and pass every test (the fast ones and
# the crash/restart fault scenarios, `ci_fault`; `make test-all` adds the other slow ones).
# Both install the whole dependency tree from the lock, hash-checked (docs/dependencies.md).
PYTHON ?= python3
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LOCK := requirements-dev.lock
# `make test` runs the suite on every core (pytest-xdist), a test module on one worker, so that
# its module-scoped fixtures (a served app, a generated year) are built once. TEST_WORKERS=0:
# in this process, one test at a time.
TEST_WORKERS ?= auto
# schemathesis under pytest-xdist runs one operation of the API's ~90: its module runs alone.
SCHEMATHESIS_TESTS := tests/api/test_schemathesis.py tests/faults/test_schemathesis_full.py
# pip names each configured local index that lacks a package (one line per package on some
# machines); what a person needs is the rest.
PIP_QUIET := sed -u '/^WARNING: Location .* is ignored: it is neither a file nor a directory\.$$/d'
EXPORT := $(BIN)/uv export --quiet --format requirements-txt --no-emit-project --no-default-groups \
	--group build

.PHONY: demo test test-all lint setup bench lock lock-upgrade clean screenshots openapi-pin

$(STAMP): $(LOCK) pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "fundledger needs Python 3.11 or later, not " + sys.version.split()[0])'
	@test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	@echo "installing the locked dependencies into $(VENV) (hash-checked; $(LOCK)) ..."
	@$(BIN)/pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r $(LOCK) 2>&1 \
		| $(PIP_QUIET)
	@$(BIN)/pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e . 2>&1 \
		| $(PIP_QUIET)
	@$(BIN)/pip check --disable-pip-version-check >/dev/null || $(BIN)/pip check
	@touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	@$(BIN)/fundledger demo

test: $(STAMP)
	@bash scripts/ensure_postgres.sh
	@bash scripts/ensure_chromium.sh
	@$(BIN)/ruff check --quiet .
	@$(BIN)/lint-imports --no-cache
	@$(BIN)/pytest -m "not slow or ci_fault" -n $(TEST_WORKERS) --dist loadfile --durations=20 \
		$(addprefix --ignore=,$(SCHEMATHESIS_TESTS))
	@$(BIN)/pytest -m "not slow or ci_fault" -p no:xdist --durations=5 $(SCHEMATHESIS_TESTS)

test-all: $(STAMP)
	@bash scripts/ensure_postgres.sh
	@bash scripts/ensure_chromium.sh
	@$(BIN)/pytest

lint: $(STAMP)
	@$(BIN)/ruff check .

bench: $(STAMP)
	@$(BIN)/fundledger bench --quick --out var/bench.md

# After changing pyproject.toml's dependencies: resolve what changed, keep every other pin.
lock: $(STAMP)
	@$(BIN)/uv lock --quiet
	@$(EXPORT) -o requirements.lock
	@$(EXPORT) --extra dev -o $(LOCK)
	@echo "uv.lock, requirements.lock and $(LOCK) written; review with git diff, then make test"

# Every package to its newest allowed release (or PACKAGE=name for one): then make test.
lock-upgrade: $(STAMP)
	@$(BIN)/uv lock --quiet $(if $(PACKAGE),--upgrade-package $(PACKAGE),--upgrade)
	@$(MAKE) --no-print-directory lock

# The OpenAPI document is pinned whole in tests/api/openapi.json (tests/api/test_contract.py).
# A change to it is a contract change (DESIGN §6): pin it again only on purpose, then git diff.
openapi-pin: $(STAMP)
	@$(BIN)/python -m tests.api.openapi_pin

clean:
	rm -rf $(VENV) var build *.egg-info

# The dashboard's zh-CN screenshots in docs/screenshots/, taken by the browser tests.
screenshots: $(STAMP)
	@bash scripts/ensure_chromium.sh
	@FUNDLEDGER_SCREENSHOTS_TO_DOCS=1 $(BIN)/pytest -q tests/dashboard/test_screenshots.py \
		tests/dashboard/test_workplace_browser.py
