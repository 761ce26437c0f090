# make book : install, generate the default data, run every chapter (quick profile), build the HTML book
# make test : install, unit tests, every chapter executed in the smoke profile, its pages checked (no warnings,
#             tracebacks, local paths, NaN tables, over-wide code), nbval, the HTML book built from those executed
#             notebooks and opened in headless Chromium (tests/test_browser.py; scripts/system-deps installs it)
# make lab  : JupyterLab on the chapters with the fernb kernel (the live confusion-matrix explorer); as root too
#             (containers, Colab-like machines)
# make record-long / make record-gpu : the recorded profiles (README, "Recorded results")
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.fernb-installed
export FERNB_HOME ?= $(CURDIR)/.fernb

.PHONY: install data book test lab chapters sync bench clean colab-check browser record-long record-gpu

install: $(STAMP)

$(STAMP): pyproject.toml
	PYTHON=$(PYTHON) sh scripts/system-deps venv
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip
	$(BIN)/pip install torch==2.14.1 torchvision==0.29.1
	$(BIN)/pip install -e '.[book,test,deploy,chapter-peers]'
	$(BIN)/pip install --no-deps facenet-pytorch==2.6.0 crowd-kit==1.4.2
	$(BIN)/python -m ipykernel install --sys-prefix --name fernb --display-name "fernb (Python 3)"
	touch $(STAMP)

data: install
	$(BIN)/python -m fernb.data.synth generate --profile quick

book: data
	$(BIN)/python -m fernb.book build --profile quick

# Debian's chromium for tests/test_browser.py: installed when this user can (root, or sudo without a password),
# otherwise a stop within seconds, before anything is installed or tested, naming the command to run
browser:
	PYTHON=$(PYTHON) sh scripts/system-deps chromium

test: browser install
	$(BIN)/python -m pytest tests --ignore=tests/test_browser.py
	$(BIN)/python -m fernb.book run-all --profile smoke
	$(BIN)/python -m fernb.book check --profile smoke
	$(BIN)/python -m pytest --nbval-lax --nbval-kernel-name fernb -p no:cacheprovider _build/executed/smoke
	$(BIN)/python -m fernb.book build --profile smoke
	FERNB_REQUIRE_BROWSER=1 $(BIN)/python -m pytest -p no:cacheprovider tests/test_browser.py

# the chapters in JupyterLab, kernel "fernb": the confusion-matrix explorers are live widgets there
lab: install
	$(BIN)/python -m jupyter lab --ServerApp.root_dir=notebooks --MappingKernelManager.default_kernel_name=fernb \
		--ServerApp.open_browser=True $(if $(filter 0,$(shell id -u)),--allow-root)

# the recorded long profile (SynthFER, this CPU, hours): detached, resumable, output in _build/logs/record-long.log
LONG ?= 09_lfer_ldl 05_resemotenet 08_btfer 07_infer_benchmark
record-long: install
	$(BIN)/python -m fernb.book record $(LONG) --background

# chapters in full on a GPU within BUDGET_S seconds, recorded under results/ (and packed into $OUT when set)
CHAPTERS ?= 05_resemotenet 09_lfer_ldl
BUDGET_S ?= 480
PARAMS   ?=
record-gpu: install
	$(BIN)/python -m fernb.book record-gpu $(CHAPTERS) --budget-s $(BUDGET_S) $(PARAMS)

# every chapter's committed .ipynb run from its Colab set-up cell in a fresh environment holding only torch
colab-check: install
	$(BIN)/python tests/colab_like.py

# rewrite the paired, output-stripped .ipynb of every chapter from its .py
sync: install
	$(BIN)/python -m fernb.book sync

bench: install
	$(BIN)/python benchmarks/loader.py

clean:
	rm -rf _build
