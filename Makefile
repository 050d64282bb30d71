# bcsync: `make demo` and `make test` bootstrap .venv on a fresh machine (Python 3.11 + pip).
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
export SAM_CLI_TELEMETRY := 0

.PHONY: install demo test bench lint format validate build clean constraints

CONSTRAINTS := layers/core/constraints.txt

$(BIN)/.installed: pyproject.toml $(CONSTRAINTS)
	@command -v $(PYTHON) >/dev/null || { echo "bcsync needs $(PYTHON) on PATH"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q --constraint $(CONSTRAINTS) -e '.[dev]'
	@touch $@

# The newest releases the ranges allow, frozen into $(CONSTRAINTS) (from a virtualenv of their own).
constraints:
	rm -rf $(VENV)/newest && $(PYTHON) -m venv $(VENV)/newest
	$(VENV)/newest/bin/pip install -q -e '.[dev]' -r layers/core/requirements.txt
	{ sed -n '/^#/p' $(CONSTRAINTS); $(VENV)/newest/bin/pip freeze --exclude-editable; } > $(CONSTRAINTS).new
	mv $(CONSTRAINTS).new $(CONSTRAINTS) && rm -rf $(VENV)/newest

# The SAM CLI and checkov pin their own dependencies (the SAM CLI an older boto3): each gets a
# virtualenv of its own, inside .venv, so the tests run on the boto3 a fresh `make test` installs.
# Their own versions are pinned too (a new release may bring new lint rules), with a stamp per
# version, so a new pin installs itself.
SAM_CLI_VERSION := 1.170.0
CHECKOV_VERSION := 3.3.30
SAM := $(VENV)/sam/bin/sam
SAM_INSTALLED := $(VENV)/sam/.installed-$(SAM_CLI_VERSION)
$(SAM_INSTALLED):
	$(PYTHON) -m venv $(VENV)/sam
	$(VENV)/sam/bin/pip install -q 'aws-sam-cli==$(SAM_CLI_VERSION)'
	@touch $@

CHECKOV := $(VENV)/checkov/bin/checkov
CHECKOV_INSTALLED := $(VENV)/checkov/.installed-$(CHECKOV_VERSION)
$(CHECKOV_INSTALLED):
	$(PYTHON) -m venv $(VENV)/checkov
	$(VENV)/checkov/bin/pip install -q 'checkov==$(CHECKOV_VERSION)'
	@touch $@

install: $(BIN)/.installed

demo: $(BIN)/.installed
	$(BIN)/bcsync demo

test: $(BIN)/.installed
	$(BIN)/pytest

bench: $(BIN)/.installed
	$(BIN)/python benchmarks/bench_webhooks.py
	$(BIN)/python benchmarks/bench_sync.py
	$(BIN)/python benchmarks/bench_cost.py
	$(BIN)/python benchmarks/bench_cold_start.py
	$(BIN)/python benchmarks/bench_flows.py
	$(BIN)/python benchmarks/bench_read.py
	$(BIN)/python benchmarks/bench_track.py
	$(BIN)/python benchmarks/bench_import.py
	$(BIN)/python benchmarks/bench_feeds.py

lint: $(BIN)/.installed $(SAM_INSTALLED) $(CHECKOV_INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy layers/core/bcsync infra/bcsync_ops
	$(SAM) validate --lint
	$(CHECKOV) --config-file .checkov.yaml

format: $(BIN)/.installed
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

build: $(SAM_INSTALLED)
	$(SAM) build

clean:
	rm -rf $(VENV) .aws-sam .pytest_cache .mypy_cache .ruff_cache
