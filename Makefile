# Two commands do everything on a fresh clone:
#   make lab    set up (first time only) and open the course in JupyterLab
#   make test   set up (first time only) and run every test, notebooks included
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
NB     ?=

.PHONY: setup lab test notebooks workbooks bench lint

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -e '.[test]'
	touch $@

lab: setup
	$(BIN)/jupyter lab notebooks/

test: setup
	$(BIN)/python -m pytest

# Refresh the committed outputs: all notebooks, or one with NB=notebooks/NAME.ipynb
notebooks: setup
	$(BIN)/python -m tools.run_notebooks $(NB)

# Rebuild the spreadsheets in excel/
workbooks: setup
	$(BIN)/python -m tools.workbooks

bench: setup
	$(BIN)/python -m tools.bench fit
	$(BIN)/python -m tools.bench collab
	$(BIN)/python -m tools.bench rnn

lint: setup
	$(BIN)/ruff check course_utils tests notebooks
