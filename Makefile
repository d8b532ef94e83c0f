# Two commands on a fresh machine: `make run` sets up and starts gigroom, `make test` runs the tests.
VENV ?= .venv
PYTHON ?= python3
BIN = $(VENV)/bin

$(BIN)/gigroom: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

.PHONY: run shell test bench lint
run: $(BIN)/gigroom
	$(BIN)/gigroom run

shell: $(BIN)/gigroom
	$(BIN)/gigroom shell --sandbox

test: $(BIN)/gigroom
	$(BIN)/python -m pytest -n 2 -q $(PYTEST_ARGS)

bench: $(BIN)/gigroom
	$(BIN)/python -m bench

lint: $(BIN)/gigroom
	$(BIN)/ruff check core adapters bot tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports
