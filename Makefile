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
	@echo "variables: PROFILE=name (params/NAME.yaml; default assignment), DEVICE=cpu|cuda (every"
	@echo "  training notebook on the torch engine on that device; default: numpy), JOBS=n"
	@echo "  (notebooks at a time; default one per 4 cores, at least 1), WORKERS=n (training"
	@echo "  jobs at a time; default every core), DASK=tcp://host:8786 (the jobs on that Dask"
	@echo "  scheduler's workers), as in make report PROFILE=quick DEVICE=cuda"

setup: $(STAMP) ## create .venv with every dependency (torch pinned) and register the kernel

# The kernel goes inside .venv (--sys-prefix): each clone's Jupyter finds its own Python.
# JupyterLab's defaults there (overrides.json) never fetch news nor ask about it: no "get
# notified about official Jupyter news?" pop-up in a new clone (Settings > Notifications
# still switches it on).
LAB_SETTINGS := $(VENV)/share/jupyter/lab/settings
LAB_QUIET    := {"@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": false}}
$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt -e .
	$(PY) -m ipykernel install --sys-prefix --name dd2424-a2 --display-name "Python (DD2424 A2)" >/dev/null
	@mkdir -p $(LAB_SETTINGS) && echo '$(LAB_QUIET)' > $(LAB_SETTINGS)/overrides.json
	@touch $@

test: $(STAMP) ## ruff, then the test suite (real-data tests run when data/ holds CIFAR-10)
	$(PY) -m ruff check .
	$(PY) -m pytest

lint: $(STAMP) ## ruff only
	$(PY) -m ruff check .

data: $(STAMP) ## find CIFAR-10 (path, env CIFAR10_DIR, data/) or download and verify it
	$(PY) -m helpers.cifar.data

clean: ## remove build outputs (keeps .venv, data/ and figures/README.md)
	rm -rf build figures/*/

.PHONY: lab
LAB_HOST ?= 127.0.0.1
LAB_PORT ?= 8888
# make's own variables are unset: every notebook then learns its name from JupyterLab.
lab: $(STAMP) ## JupyterLab on notebooks/ at http://LAB_HOST:LAB_PORT (127.0.0.1:8888; no browser opened)
	env -u WORKBOOK_NOTEBOOK -u WORKBOOK_MAKE $(VENV)/bin/jupyter lab --no-browser \
	  --ip $(LAB_HOST) --port $(LAB_PORT) \
	  $(if $(filter 0,$(shell id -u)),--allow-root) notebooks/

.PHONY: check-lab
check-lab: $(STAMP) ## JupyterLab in headless chromium: 02 and a copy of 06 run by hand without errors, with figures, no news pop-up, make report's outputs untouched (after make report)
	$(PY) .ci/check-lab

.PHONY: readme reference check-reference
readme: $(STAMP) ## the README's numbers from notebooks/reference.json (--check: python -m helpers.report.readme --check, run by make test)
	$(PY) -m helpers.report.readme

reference: $(STAMP) ## write notebooks/reference.json from build/{seed,assignment}/results and this machine (a profile not built keeps its entry), then the README's numbers from it
	$(PY) -m helpers.report.reference write
	$(PY) -m helpers.report.readme

check-reference: $(STAMP) ## does build/PROFILE/results agree with notebooks/reference.json? (verdicts and settings identical, accuracies within tolerance)
	@$(PY) -m helpers.report.reference check $(PROFILE)

.PHONY: bench
bench: $(STAMP) ## benchmarks (step, search, report times, memory; one whole coarse search) as set here, then with OpenBLAS's own settings; build/bench/bench.json
	$(PY) -m benchmarks.bench --whole-search
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(PY) -m benchmarks.bench

# ---- the report: notebooks run by papermill, exported by nbconvert ----------------------
# make report PROFILE=name runs notebooks/*.ipynb with params/<name>.yaml into
# build/<name>/notebooks/, then build/<name>/report.html and report.pdf. Results are in
# build/<name>/results/, figures in figures/<name>/; the training cache, one for every profile
# (its key holds every input), in build/cache/.
PROFILE   ?= assignment
ifeq ($(wildcard params/$(PROFILE).yaml),)
  $(error unknown PROFILE '$(PROFILE)': there is no params/$(PROFILE).yaml; the profiles are \
    $(basename $(notdir $(wildcard params/*.yaml))))
endif
# DEVICE=cpu or cuda: every training notebook's `device` parameter (the torch engine on that
# device; empty: numpy, the default). A change of DEVICE reruns every notebook (the stamp).
DEVICE    ?=
DEVICE_ARG := $(if $(DEVICE), --device $(DEVICE))
OUT       := build/$(PROFILE)
EXECUTED  := $(OUT)/notebooks
HELPERS   := $(shell find helpers -name '*.py')  # every module of every package
PAPERMILL := $(VENV)/bin/papermill
JUPYTER   := $(VENV)/bin/jupyter
PDF_TOOLS := $(shell command -v xelatex >/dev/null && command -v pandoc >/dev/null && echo yes)
APT_PDF   := pandoc texlive-xetex texlive-fonts-recommended texlive-plain-generic fonts-dejavu \
             poppler-utils chromium
# The sections, their order and dependencies come from the registry, notebooks/sections.toml
# (SECTIONS, LONG, REPORT and one rule per `reads`), through build/sections.mk.
include build/sections.mk
build/sections.mk: notebooks/sections.toml helpers/registry.py helpers/paths.py
	@mkdir -p build && python3 -m helpers.registry makefile > $@.tmp && mv -f $@.tmp $@
# One notebook at a time on up to 7 cores unless told otherwise (JOBS=2 or make -j2 report: two
# at a time, the same digits): each notebook keeps both cores busy with its jobs, and two at once
# slowed each other as much as they filled each other's idle moments (543 s serial, 548 s
# with -j2, for a clean make report on two cores).
# On more cores, one notebook per four cores (helpers.workbook.timing.at_once): independent
# notebooks (04 beside 01-03, 08 beside 06 and 07) then overlap their serial parts and their
# last, lonely jobs; make plan projects both.
JOBS ?= $(shell n=$$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1); \
  echo $$(( n / 4 > 1 ? n / 4 : 1 )))
MAKEFLAGS += -j$(JOBS)
# Every notebook runs on one BLAS thread, never more whatever -j: its trainings run as jobs,
# one per core at a time (helpers/training/workers.py; WORKERS=n: n at a time), so every core
# is busy and a job's digits depend on neither -j, WORKERS nor the machine's cores.
# DASK=tcp://host:8786 sends the jobs' trainings to the workers of the Dask cluster whose
# scheduler listens there (pip install -r requirements-dask.txt first): the same digits.
WORKERS ?=
DASK    ?=
export WORKBOOK_WORKERS := $(WORKERS)
export WORKBOOK_DASK    := $(DASK)

.PHONY: report notebooks report-times pdf-tools pdf-tools-try check-data check-report

report: $(OUT)/report.html $(if $(PDF_TOOLS),$(OUT)/report.pdf) ## run every notebook of PROFILE (default assignment), then build/PROFILE/report.html and .pdf
	@echo "report: $(OUT)/report.html$(if $(PDF_TOOLS), and $(OUT)/report.pdf)"
	@$(if $(PDF_TOOLS),:,echo "no PDF: pandoc and xelatex are missing; run 'make pdf-tools' as root \
	  (apt-get install $(APT_PDF)), then make report again")

notebooks: $(SECTIONS:%=$(EXECUTED)/%.ipynb) ## run every section notebook of PROFILE (one: make build/PROFILE/notebooks/NAME.ipynb)

check-report: | $(STAMP) ## check build/PROFILE/report.pdf with poppler (every figure, listing and check of the registry), then make check-reference
	@status=0; .ci/check-report $(OUT)/report.pdf || status=1; \
	  $(PY) -m helpers.report.reference check $(PROFILE) || status=1; exit $$status

# A reader's check: a copy of the HTML report in another folder, opened in headless Chromium with
# the network off (.ci/check-html, seconds).
.PHONY: check-html
check-html: | $(STAMP) ## open a copy of build/PROFILE/report.html in headless chromium, offline: fails on raw TeX, a formula not drawn, an image not decoded or without alt text, anything loaded from outside it
	@$(PY) .ci/check-html $(OUT)/report.html

report-times: ## seconds each executed notebook of PROFILE took, and the total
	@$(PY) -m helpers.workbook.timing $(EXECUTED)

check-data: | $(STAMP) ## find and check CIFAR-10 before a report (downloads it when missing, as make data)
	@$(PY) -m helpers.cifar.data

# One notebook: helpers/workbook/build.py checks its parameters (params/PROFILE.yaml: unknown
# keys and wrong types rejected), then runs it with papermill as make's own run (its results
# go where the report reads them; a hand run writes to build/hand/), named by make whatever the
# environment inherits (`!make report` typed in a notebook included), into a temporary name;
# only a successful run is renamed to the target (a failed or interrupted one is kept as
# NAME.failed.ipynb to read the error). A second build of the same notebook and profile at
# once stops with an error instead of racing the first. Every notebook reruns when the numeric
# stack (numpy, its BLAS, torch, Python) or the data changed: $(OUT)/environment.json, which
# helpers.workbook.environment rewrites only when they did.
$(EXECUTED)/%.ipynb: notebooks/%.ipynb params/$(PROFILE).yaml $(HELPERS) $(OUT)/environment.json \
    | $(STAMP) check-data plan
	@$(PY) -m helpers.workbook.build $(PROFILE) $* $(EXECUTED)$(DEVICE_ARG)

# '+': also under make -n, so that a dry run (the plan's) sees the stamp as it is
$(OUT)/environment.json: FORCE | $(STAMP) check-data
	+@$(PY) -m helpers.workbook.environment $@$(DEVICE_ARG)

# Before the first notebook: what will run, and how long each took in the last build (a dry
# run of the same goals; WORKBOOK_PLAN keeps the dry run from planning again).
.PHONY: plan
plan: | $(STAMP) ## what make report (or the goals given) will run, how long each took in the last build, and the last build projected on 1-16 cores
	+@[ -n "$$WORKBOOK_PLAN" ] || WORKBOOK_PLAN=1 $(MAKE) --no-print-directory -n \
	  $(or $(filter-out plan,$(MAKECMDGOALS)),report) PROFILE=$(PROFILE) 2>/dev/null | \
	  $(PY) -m helpers.workbook.build --plan $(PROFILE) $(EXECUTED)

.PHONY: FORCE
FORCE:

# Each section after the ones it `reads`; the report after every section, the long ones
# first (they start the longest chain early under make -j): rules in build/sections.mk.

$(EXECUTED)/report.ipynb: notebooks/original.json

# The HTML report is one file that renders anywhere: its formulas MathML, drawn by the browser
# (helpers/report/mathml.py: a formula it cannot convert fails the build), its figures and
# stylesheet inside it, no script (templates/dd2424-html). make check-html reads it as a reader.
$(OUT)/report.html: $(EXECUTED)/report.ipynb $(wildcard templates/dd2424-html/*) helpers/report/mathml.py
	$(JUPYTER) nbconvert --log-level WARN --to helpers.report.mathml.ReportExporter \
	  --no-input --embed-images \
	  --template dd2424-html --TemplateExporter.extra_template_basedirs=templates \
	  --CoalesceStreamsPreprocessor.enabled=True \
	  --output-dir $(OUT) --output report.tmp $< && mv -f $(OUT)/report.tmp.html $@

$(OUT)/report.pdf: $(EXECUTED)/report.ipynb $(wildcard templates/dd2424/*)
	$(JUPYTER) nbconvert --log-level WARN --to pdf --no-input --template dd2424 \
	  --TemplateExporter.extra_template_basedirs=templates \
	  --output-dir $(OUT) --output report.tmp $< && mv -f $(OUT)/report.tmp.pdf $@

pdf-tools: ## install pandoc, XeLaTeX, DejaVu fonts, poppler (the PDF, check-report) and chromium (check-html, check-lab) (root, apt-get)
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	  apt-get install -y --no-install-recommends $(APT_PDF)

# make setup also installs the PDF tools (and chromium) where it can (root with apt-get) and they are
# missing; a failed install (offline, no mirror) only warns: the report then builds HTML only.
HAVE_PDF_TOOLS := $(shell command -v xelatex >/dev/null && command -v pandoc >/dev/null && \
  command -v pdftotext >/dev/null && command -v chromium >/dev/null && echo yes)
setup: $(if $(HAVE_PDF_TOOLS),,$(if $(shell [ "$$(id -u)" = 0 ] && command -v apt-get),pdf-tools-try))

pdf-tools-try: ## pdf-tools, but only warn when they cannot be installed (used by setup)
	@$(MAKE) --no-print-directory pdf-tools || echo "warning: could not install the PDF \
	  tools ($(APT_PDF)); make report will build the HTML report only" >&2
