# The two commands a new user needs: `make run` and `make test`.
# Each creates the virtualenv when it is missing.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DATA_DIR ?= var
# Where `make run` listens: `make run PORT=8080`, `make run HOST=0.0.0.0` (every interface).
HOST ?= 127.0.0.1
PORT ?= 8000

AXE := tests/browser/node_modules/axe-core/axe.min.js

.PHONY: run test check lint bench bench-scale migration translations config-doc deploy-test clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip setuptools
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

run: $(STAMP)
	QUIETLINE_DEV=1 $(BIN)/quietline --data-dir $(DATA_DIR) serve --demo --host $(HOST) --port $(PORT)

# axe-core for the browser tests, pinned by tests/browser/package-lock.json.
$(AXE): tests/browser/package.json tests/browser/package-lock.json
	npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error
	touch $(AXE)

test: $(STAMP) $(AXE)
	$(BIN)/ruff check .
	$(BIN)/mypy --strict crypto
	$(BIN)/lint-imports --no-cache --no-logo
	$(BIN)/python -m pytest

# The inner loop, about a minute: lint, types of crypto/, the import contract, unit tests.
# `make test` still runs everything (integration and system tests too).
check: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy --strict crypto
	$(BIN)/lint-imports --no-cache --no-logo
	$(BIN)/python -m pytest -q tests/unit

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy --strict crypto
	$(BIN)/lint-imports --no-cache --no-logo

# deploy/ built and run with podman: the images from Debian packages, the compose stack, the
# round trips of tests/system/test_deploy_stack.py; each step printed with its time. Needs root,
# podman, runc and debootstrap (.ci/run installs them); caches under ~/.cache/quietline-deploy.
deploy-test: $(STAMP)
	nice -n 10 $(BIN)/python -m pytest -p no:cacheprovider -s -rs \
	  tests/system/test_deploy_stack.py tests/system/test_deploy_systemd.py

bench: $(STAMP)
	$(BIN)/python -m bench.run

# How the costs grow with the work: 10,000 to 1,000,000 cases on SQLite and PostgreSQL (long;
# not part of `make test`). Quick run: make bench-scale SIZES=10000,100000 ENGINES=sqlite
SIZES ?= 10000,100000,1000000
ENGINES ?= sqlite,postgresql
ATTACHMENT_MB ?= 5000
bench-scale: $(STAMP)
	nice -n 15 $(BIN)/python -m bench.scale --sizes $(SIZES) --engines $(ENGINES) \
		--attachment-mb $(ATTACHMENT_MB) --out bench-scale-results

# A new Alembic revision from the models: make migration MESSAGE="add a thing"
migration: $(STAMP)
	$(BIN)/python -m intake.devtools new-migration "$(MESSAGE)"

# Gather every sentence to translate into intake/locale/quietline.pot and merge it into
# each language's .po file (new entries arrive empty, for a translator to fill in).
translations: $(STAMP)
	$(BIN)/python -m intake.devtools.catalogs update

# docs/configuration.md from the fields of intake/config.py (a test fails while they differ).
config-doc: $(STAMP)
	$(BIN)/python -m intake.devtools.config_doc

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache tests/browser/node_modules test-artifacts
