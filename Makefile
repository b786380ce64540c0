# One entry point for people and CI. Both targets build .venv themselves.
#   make demo   - the whole pipeline on this machine, then serves the report
#   make check  - ruff, mypy, import-linter, cfn-lint and pytest (what CI runs)
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml constraints.txt | sha1sum | cut -c1-12)
PYTEST_ARGS ?= -n 2 --dist loadfile

.PHONY: check lint typecheck imports cfn test demo venv system-deps bench clean

venv: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[dev,scale]'
	rm -f $(VENV)/.installed-* && touch $@

# Debian packages the tests drive for real (headless chromium); installed only when missing.
system-deps:
	@bash scripts/system-deps.sh

lint: venv
	$(BIN)/ruff check .

typecheck: venv
	$(BIN)/mypy

imports: venv
	$(BIN)/lint-imports

cfn: venv
	@bash scripts/cfn-lint.sh

test: venv system-deps
	@bash scripts/pytest.sh $(PYTEST_ARGS)

check: lint typecheck imports cfn test

demo: venv
	$(BIN)/shadowdiff demo $(DEMO_ARGS)

bench: venv
	@echo "benchmarks are scripts: $(BIN)/python benchmarks/<name>.py (never run in CI)"

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache build *.egg-info
