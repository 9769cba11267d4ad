# Two commands for a newcomer: `make run` and `make test`. Everything else is a helper target.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
EMULATOR := tests/e2e/emulator
EMULATOR_STAMP := $(EMULATOR)/node_modules/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: run test install emulator lint typecheck pytest eval bench clean

run: install
	$(BIN)/python run_bot.py

test: install emulator lint typecheck pytest

install: $(STAMP)

# torch first, pinned: the CPU build; an unpinned torch would pull a multi-GB CUDA build.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m retrieval.e5convert
	touch $@

emulator: $(EMULATOR_STAMP)

$(EMULATOR_STAMP): $(EMULATOR)/package.json $(EMULATOR)/package-lock.json
	npm ci --prefix $(EMULATOR) --no-audit --no-fund --loglevel=error
	touch $@

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

pytest: install emulator
	$(BIN)/pytest -q

eval: install
	$(BIN)/python -m retrieval eval ../shared/data/arcd/arcd.json --mode all

bench: install
	$(BIN)/python benchmarks/arcd_hybrid.py

clean:
	rm -rf $(VENV) $(EMULATOR)/node_modules .pytest_cache .mypy_cache .ruff_cache
