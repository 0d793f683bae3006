# One entry point for everything CI runs: `make test` (alias `make check`).
# It installs the Debian packages the real-server tests need (when it may), creates .venv,
# installs the project with its dev extra, then runs format check, lint, type check and tests.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test check lint format system-deps venv bench demo clean

test: system-deps venv lint
	$(BIN)/pytest

check: test

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

system-deps:
	bash scripts/system-deps.sh

lint: venv
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy harness probes results tests bench
	$(BIN)/lint-imports

format: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The offline demo: a whole campaign against a simulated county, in ./kkik-demo/.
demo: venv
	$(BIN)/kkik demo

# Every benchmark in its own process; a table of target / measured / met, and bench/results.json.
# `make bench QUICK=1` is a smoke run with small sizes (about two minutes).
bench: venv
	PYTHONPATH=. $(BIN)/python bench/run_all.py $(if $(QUICK),--quick)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache *.egg-info
