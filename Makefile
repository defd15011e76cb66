# The two commands a new user needs: `make run` and `make test`.
# Each creates the virtualenv when it is missing.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DATA_DIR ?= var

.PHONY: run test lint bench migration clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip setuptools
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

run: $(STAMP)
	QUIETLINE_DEV=1 $(BIN)/quietline --data-dir $(DATA_DIR) serve --demo

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy --strict crypto
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy --strict crypto

bench: $(STAMP)
	$(BIN)/python -m bench.run

# A new Alembic revision from the models: make migration MESSAGE="add a thing"
migration: $(STAMP)
	$(BIN)/python -m intake.devtools new-migration "$(MESSAGE)"

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
