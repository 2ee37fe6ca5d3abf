# Every target creates .venv and installs what it needs on first use; the stamp
# files make a second call skip the install in milliseconds.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP_RUN := $(VENV)/.stamp-run
STAMP_DEV := $(VENV)/.stamp-dev
STAMP_BENCH := $(VENV)/.stamp-bench
PIP := $(BIN)/python -m pip install --disable-pip-version-check -q

.PHONY: run test bench lint chaos sim clean

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "need python3.11 (or python3 >= 3.11) on PATH"; exit 1; }
	$(PYTHON) -m venv $(VENV)

# setup.py builds the optional C extensions (*.c under src/); a changed source rebuilds them.
$(STAMP_RUN): pyproject.toml setup.py $(wildcard src/cexarb/*/*.c src/cexarb/*/*/*.c) | $(BIN)/python
	$(PIP) -e .
	@touch $@

$(STAMP_DEV): $(STAMP_RUN)
	$(PIP) -e '.[dev]'
	@touch $@

$(STAMP_BENCH): $(STAMP_DEV)
	$(PIP) -e '.[bench]'
	@touch $@

run: $(STAMP_RUN)
	$(BIN)/cexarb run $(ARGS)

sim: $(STAMP_RUN)
	$(BIN)/cexarb sim $(ARGS)

test: $(STAMP_DEV)
	$(BIN)/python -m pytest -q -m "not chaos_long" $(ARGS)

chaos: $(STAMP_DEV)
	$(BIN)/python -m pytest tests/chaos -m "chaos_long or not chaos_long" $(ARGS)

bench: $(STAMP_BENCH)
	$(BIN)/python -m bench $(if $(QUICK),--quick,) $(ARGS)

lint: $(STAMP_DEV)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

clean:
	rm -rf $(VENV) .bench
