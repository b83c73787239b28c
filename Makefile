# DD2424 Assignment 2 workbook. `make help` lists every target.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: help setup test lint data clean

help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | \
	  awk 'BEGIN {FS = ":.*## "}; {printf "  make %-14s %s\n", $$1, $$2}'

setup: $(STAMP) ## create .venv with every dependency (torch pinned) and register the kernel

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt -e .
	$(PY) -m ipykernel install --user --name dd2424-a2 --display-name "Python (DD2424 A2)" >/dev/null
	@touch $@

test: $(STAMP) ## ruff, then the test suite (real-data tests run when data/ holds CIFAR-10)
	$(PY) -m ruff check .
	$(PY) -m pytest

lint: $(STAMP) ## ruff only
	$(PY) -m ruff check .

data: $(STAMP) ## find CIFAR-10 (path, env CIFAR10_DIR, data/) or download and verify it
	$(PY) -m helpers.data

clean: ## remove build outputs (keeps .venv and data/)
	rm -rf build figures
