# Two entry points: `make search` (the main job) and `make test`. Each one creates or
# updates the virtual environment from the pinned lock files first (runtime lock +
# requirements-dev.lock's test, lint and type-check tools).
# Bytecode is compiled at install (`--compile-bytecode`, pip's default, not uv's) and for the
# project before each run (`compile`): every Ray trial worker imports torch and Lightning, and
# where PYTHONDONTWRITEBYTECODE is set no process ever writes a .pyc, so each worker compiled
# them from source (`import lightning`: 19.4 s without .pyc files, 7.1 s with them, on 2 cores).
PROJECT_CODE := dabs_lib search_spaces trainables analysis cli bench tests run_search.py
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: search test test-fast lint compile bench clean-venv

$(STAMP): requirements.lock requirements-dev.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check uv==0.13.9
	$(BIN)/uv pip install -q --compile-bytecode --python $(BIN)/python -r requirements-dev.lock
	$(BIN)/uv pip install -q --python $(BIN)/python --no-deps -e .
	touch $(STAMP)

compile: $(STAMP)
	$(BIN)/python -m compileall -q $(PROJECT_CODE)

search: compile
	$(BIN)/python run_search.py $(ARGS)

# Static checks (configured in pyproject.toml): lint, formatting, types. `make test` runs them first.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The suite runs in TEST_WORKERS pytest-xdist processes, each test file whole in one of them
# (`--dist loadfile`: a file's module fixtures, its tiny searches, are built once). Files with
# slow tests are handed out first (tests/conftest.py). TEST_WORKERS=0 runs it in this process.
TEST_WORKERS ?= 2
XDIST = $(if $(filter 0,$(TEST_WORKERS)),-p no:xdist,-n $(TEST_WORKERS) --dist loadfile)

test: lint compile
	$(BIN)/python -m pytest -q -rs --durations=15 $(XDIST) $(PYTEST_ARGS)

test-fast: compile
	$(BIN)/python -m pytest -q -m "not slow" $(XDIST) $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python bench/probe_speed.py
	$(BIN)/python bench/search_overhead.py

clean-venv:
	rm -rf $(VENV)
