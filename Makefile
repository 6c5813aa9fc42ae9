# `make run`: every suite against the embedded reference implementations, report in reports/latest.
# `make test`: the project's own tests, every suite, and the real peers that can be started.
# Both create .venv and install what they need; a second call with nothing changed installs nothing.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.PHONY: run test lint typecheck clean-reports

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "installing streamconform into $(VENV) ..."
	@$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	@$(BIN)/python -m harness.testrun run $(PYTEST_ARGS)

test: $(STAMP)
	@$(BIN)/python -m harness.testrun test $(PYTEST_ARGS)

lint: $(STAMP)
	@$(BIN)/ruff check harness reference_impl suites tests bench
	@$(BIN)/ruff format --check harness reference_impl suites tests bench

typecheck: $(STAMP)
	@$(BIN)/mypy

clean-reports:
	@find reports -mindepth 1 -maxdepth 1 ! -name README.md -exec rm -rf {} +
