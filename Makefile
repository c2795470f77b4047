# Two commands do everything on a fresh clone:
#   make lab    set up (first time only) and open your copies of the lessons (my-notebooks/)
#               in JupyterLab; `make refresh NB=<lesson>` takes the course's version again
#   make test   set up (first time only) and run every test tier
# and `make test-fast` runs the unit tier only (under a minute).
#
# The set-up installs the exact versions of requirements/lock-linux-cpu.txt (hash-checked)
# into .venv. PyTorch comes first, from PyTorch's own package index, as the CPU build: PyPI's
# Linux build bundles CUDA and downloads several GB. With an NVIDIA GPU, pick a CUDA build of
# the same version instead, e.g. `make setup TORCH=cu128` (the builds are listed on
# https://pytorch.org/get-started/locally/). On macOS every build of torch runs on the CPU
# and Apple's GPU (MPS); the CPU index serves it too.
PYTHON ?= python3
comma  := ,
VENV   ?= .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
NB     ?=
# The notebook tier runs two notebooks at a time (pytest-xdist; each keeps its own kernel):
# most lessons train small models on one thread. NB_PARALLEL= runs them one by one.
NB_PARALLEL ?= -n 2 --dist loadscope
LOCK   := requirements/lock-linux-cpu.txt

TORCH         ?= cpu
TORCH_INDEX   ?= https://download.pytorch.org/whl/$(TORCH)
# How pip finds torch; override for a mirror, e.g. TORCH_PIP_ARGS="--find-links /opt/wheels"
TORCH_PIP_ARGS ?= --index-url $(TORCH_INDEX)
TORCH_VERSION := $(shell sed -n 's/^torch==\([0-9][0-9.]*\).*/\1/p' $(LOCK))

# The extras a maintainer installs (the lock covers them): all of pyproject.toml's but kaggle.
EXTRAS := $(shell sed -n '/^\[project.optional-dependencies\]/,/^\[/s/^\([a-z][a-z0-9_-]*\) = \[.*/\1/p' pyproject.toml | grep -vx kaggle | paste -sd, -)
LOCK_PYTHON     ?= 3.11
LOCK_PLATFORM   ?= x86_64-manylinux_2_28
# Where `make lock` reads the CPU build's metadata (a page of links to the torch wheels).
LOCK_TORCH_LINKS ?= https://download.pytorch.org/whl/torch/

.PHONY: setup lab refresh test test-fast test-latest tiers lock notebooks workbooks site bench gpu-check lint

# The set-up says one line per step; pip's own output goes to $(VENV)/setup.log, and its end is
# shown when a step fails. On a network that does not answer, pip gives up after about half a
# minute instead of retrying for minutes (PIP_NET= restores pip's own timeout and retries).
PIP     := $(PY) -m pip
PIP_NET ?= --timeout 15 --retries 1
LOG     := $(VENV)/setup.log
FAILED  = { tail -n 25 $(LOG) >&2; echo "setup: this step failed; the whole log is in $(LOG)" >&2; exit 1; }
define TORCH_HELP
setup: could not install torch $(TORCH_VERSION) with: pip install $(TORCH_PIP_ARGS)
  Is PyTorch's package index reachable from here (no network, a proxy, a firewall)? Point pip
  at a mirror or at a folder of downloaded wheels instead, for example:
    make setup TORCH_PIP_ARGS="--find-links /path/to/wheels"
    make setup TORCH_PIP_ARGS="--index-url https://your-mirror/simple"
endef
export TORCH_HELP

setup: $(VENV)/.installed

$(VENV)/.installed: $(LOCK) pyproject.toml
	@test -x $(PY) || { echo "setup: creating the virtual environment $(VENV)"; $(PYTHON) -m venv $(VENV); }
	@echo "setup: $$(date) (pip's messages: $(LOG))" > $(LOG)
	@echo "setup: updating pip"
	@$(PIP) install --upgrade pip $(PIP_NET) >> $(LOG) 2>&1 || $(FAILED)
	@$(PY) -c "import sys, torch; sys.exit(torch.__version__ != '$(TORCH_VERSION)+$(TORCH)')" 2>/dev/null \
	  || { echo "setup: installing PyTorch $(TORCH_VERSION), $(TORCH) build ($(TORCH_PIP_ARGS))"; \
	       $(PIP) install torch==$(TORCH_VERSION) $(TORCH_PIP_ARGS) $(PIP_NET) >> $(LOG) 2>&1 \
	       || { grep -E "^(ERROR|WARNING)" $(LOG) | tail -n 4 >&2; echo "$$TORCH_HELP" >&2; exit 1; }; }
	@echo "setup: installing the locked libraries ($(LOCK), hash-checked)"
	@$(PIP) install --require-hashes -r $(LOCK) $(PIP_NET) >> $(LOG) 2>&1 || $(FAILED)
	@echo "setup: installing course_utils from this folder (editable)"
	@$(PIP) install --no-deps -e . >> $(LOG) 2>&1 || $(FAILED)
	@$(PIP) check >> $(LOG) 2>&1 || $(FAILED)
	@touch $@ && echo "setup: done"

# Students work in their own copies: my-notebooks/ (git-ignored), seeded from notebooks/ with
# every lesson it lacks (never overwriting one), so the committed lessons stay as they are.
# JupyterLab refuses to run as root (containers, some cloud machines) unless told.
lab: setup
	@$(PY) -m course_utils.workspace seed
	@test -n "$$COURSE_DATA" || echo "note: COURSE_DATA is not set, so the lessons download the data sets into data/ when they first need them; to use copies you have, quit JupyterLab, export COURSE_DATA=/path/to/them and run make lab again"
	$(BIN)/jupyter lab my-notebooks/ $(if $(filter 0,$(shell id -u)),--allow-root)

# Take the course's current version of a lesson again, or of every lesson without NB; your copy
# is kept beside it (NAME.backup-<date-time>.ipynb). `make refresh NB=lesson5-movielens`
refresh: setup
	@$(PY) -m course_utils.workspace refresh $(NB)

# Every tier: unit, workbook (LibreOffice), notebooks (strict nbval), browser (Chromium).
# Each tier runs even when an earlier one failed; the exit status says whether all passed.
test: setup
	@$(MAKE) --no-print-directory tiers

# The unit tier: a bare `pytest`, under a minute, no LibreOffice, Chromium or data needed.
test-fast: setup
	$(PY) -m pytest

tiers:
	@status=0; \
	for tier in "" "-m libreoffice" "--nbval notebooks/ $(NB_PARALLEL)" "tests/browser"; do \
	  echo "==> pytest $$tier"; $(PY) -m pytest $$tier || status=1; \
	done; exit $$status

# The newest releases the bounds in pyproject.toml allow (torch too), in .venv-latest, then
# every tier: run it now and then to learn early what a new pandas or torch breaks.
# LATEST_TORCH=torch==2.13.0 keeps one torch while everything else moves.
LATEST_TORCH ?= torch
test-latest:
	test -x .venv-latest/bin/python || $(PYTHON) -m venv .venv-latest
	.venv-latest/bin/python -m pip install --upgrade pip
	.venv-latest/bin/python -m pip install --upgrade $(LATEST_TORCH) $(TORCH_PIP_ARGS)
	.venv-latest/bin/python -c "import torch; print('torch==' + torch.__version__)" > .venv-latest/torch.txt
	.venv-latest/bin/python -m pip install --upgrade --upgrade-strategy eager \
	  --constraint .venv-latest/torch.txt -e '.[$(EXTRAS)]'
	.venv-latest/bin/python -m pip list
	@$(MAKE) --no-print-directory tiers VENV=.venv-latest

# Regenerate the lock from pyproject.toml (every extra but kaggle) with uv: the newest
# versions the bounds allow, each file's sha256, for Linux x86-64 and Python 3.11 (the oldest
# supported Python, so every pinned release also supports the newer ones). torch stays at
# TORCH_VERSION (move it with `make lock TORCH_VERSION=...`); its CPU build is resolved, and
# it is written without hashes: the set-up installs torch first, from the index that fits the
# hardware, and pip then keeps the installed build.
lock:
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet 'uv>=0.5'
	@mkdir -p requirements
	echo "torch==$(or $(TORCH_VERSION),$(error set TORCH_VERSION))+cpu" > $(VENV)/torch-cpu.txt
	$(BIN)/uv pip compile pyproject.toml $(patsubst %,--extra %,$(subst $(comma), ,$(EXTRAS))) \
	  --python-version $(LOCK_PYTHON) --python-platform $(LOCK_PLATFORM) \
	  --index-url https://pypi.org/simple --find-links $(LOCK_TORCH_LINKS) \
	  --constraint $(VENV)/torch-cpu.txt --no-emit-package torch \
	  --generate-hashes --custom-compile-command "make lock" --quiet --output-file $(LOCK).new
	awk -v torch="torch==$(TORCH_VERSION)" 'done || /^#/ { print; next } \
	  { print "# torch: its CPU build was resolved; `make setup` installs torch first (see Makefile)"; \
	    print torch; done = 1; print }' $(LOCK).new > $(LOCK).tmp
	rm $(LOCK).new && mv $(LOCK).tmp $(LOCK)
	@echo "wrote $(LOCK): review the diff, run make test, commit it"

# Refresh the committed outputs: all notebooks, or one with NB=notebooks/NAME.ipynb (quoted, so
# a name with spaces works; several: python -m tools.run_notebooks A.ipynb B.ipynb)
notebooks: setup
	$(PY) -m tools.run_notebooks $(if $(NB),"$(NB)")

# Rebuild the spreadsheets in excel/
workbooks: setup
	$(PY) -m tools.workbooks

# The course website, from the committed notebooks (nothing is re-run), offline, into
# build/site/ (docs/conf.py says how); open build/site/index.html. A warning is an error
# (-W), and --keep-going lists them all before failing.
site: setup
	$(PY) -m sphinx -E -W --keep-going -b html -d build/doctrees docs build/site

# The benchmarks (docs/performance.md), the package tools/bench/, one module each:
# `python -m tools.bench {fit,step,collab,rnn,notebooks} [--json]`; the notebooks run with one
# thread unless COURSE_THREADS says otherwise (`--markdown`: docs/performance.md's table).
bench: setup
	$(PY) -m tools.bench fit
	$(PY) -m tools.bench step
	$(PY) -m tools.bench collab
	$(PY) -m tools.bench rnn
	$(PY) -m tools.bench notebooks

# The benchmarks and every notebook on the best device (CUDA, then Apple MPS, then the CPU,
# with a note that no GPU was found), their quality gates, one table; fails if a gate does.
# For an NVIDIA GPU, set up with a CUDA build of torch first (make setup TORCH=cu128).
gpu-check: setup
	$(PY) -m tools.bench gpu --budget 120

# ruff format rewrites, ruff check --fix mends what it can; tests/test_lint.py checks both.
LINTED := course_utils tools tests notebooks solutions docs conftest.py
lint: setup
	$(BIN)/ruff format $(LINTED)
	$(BIN)/ruff check --fix $(LINTED)
