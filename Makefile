# dlnotes: build the book and run every check.  See README.md.
#   make book        build the HTML site (warnings are errors)
#   make test        unit tests, pairing check, nbval on every notebook, reproducibility with the
#                    network blocked, book build, browser test
#   make notebooks   rebuild notebooks/*.ipynb from notebooks/*.md (executes changed code)
#   make lab         open the chapters in JupyterLab (a chapter's .md opens as a notebook)
# Both `book` and `test` create or refresh the virtual environment and assets first.

PYTHON  ?= python3
VENV    := .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.dlnotes-installed
ASSETS  := _vendor/site/mathjax/tex-svg-full.js
JOBS    ?= 2
NBVAL   := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg --nbval-cell-timeout=300

.PHONY: all venv assets book notebooks notebooks-force lab book-student test-latest test test-unit test-notebooks test-repro test-book test-site test-gpu \
        benchmark browser clean

all: book

# ----------------------------------------------------------------------------- environment
venv: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	@touch $@

assets: $(ASSETS)

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(ASSETS): node_modules/.package-lock.json
	@mkdir -p $(dir $@)
	cp node_modules/mathjax/es5/tex-svg-full.js $@

# ----------------------------------------------------------------------------- notebooks
notebooks: venv
	$(PY) -m tools.notebooks sync

notebooks-force: venv
	$(PY) -m tools.notebooks sync --force

# JupyterLab in the project's environment, with jupytext: a chapter's .md opens
# as a notebook (double-click; the settings override below makes that the
# default viewer) and saving writes both the .md and the .ipynb (jupytext.toml).
# After editing, `make notebooks` re-executes what changed and normalises the .ipynb.
LAB_SETTINGS := $(VENV)/share/jupyter/lab/settings/overrides.json
lab: venv
	@mkdir -p $(dir $(LAB_SETTINGS))
	@echo '{"@jupyterlab/docmanager-extension:plugin": {"defaultViewers": {"markdown": "Jupytext Notebook"}}}' > $(LAB_SETTINGS)
	$(VENV)/bin/jupyter lab --ServerApp.ip=127.0.0.1 --ServerApp.root_dir=$(CURDIR) --ServerApp.preferred_dir=$(CURDIR)/notebooks \
	  $(if $(filter 0,$(shell id -u)),--allow-root)

# ----------------------------------------------------------------------------- book
BUILD_BOOK := $(VENV)/bin/jupyter-book build . -W -n --keep-going

# Executes every notebook whose code (or the library) changed, two at a time,
# then builds; a failing cell fails the build.
book: venv assets
	$(PY) -m tools.notebooks guard-cache _build
	$(PY) -m tools.notebooks prefill-cache _build
	$(BUILD_BOOK)
	@echo "The book is at file://$(CURDIR)/_build/html/index.html"

# Within `make test`, nbval and test-repro have just executed every notebook
# twice and found the stored outputs equal to both runs; the build takes those
# verified outputs instead of executing a third time.
test-book: venv assets
	$(PY) -m tools.notebooks guard-cache _build
	$(PY) -m tools.notebooks seed-cache _build
	$(BUILD_BOOK)

# ----------------------------------------------------------------------------- tests
test: test-unit test-notebooks test-repro test-book test-site
	@echo "make test: every check passed"

test-unit: venv assets
	$(PY) -m pytest tests -q --ignore=tests/site --ignore=tests/reproducibility

test-notebooks: venv
	OMP_NUM_THREADS=1 $(PY) -m pytest notebooks -q $(NBVAL) -n $(JOBS) --dist loadfile

# Every notebook once more, with 2 threads and the network blocked, compared
# with the stored outputs byte for byte.  In an empty network namespace when the
# machine allows one (root), always with a socket guard inside the kernel.
NETNS := $(shell unshare -n true 2>/dev/null && echo "unshare -n")
test-repro: venv
	$(NETNS) env OMP_NUM_THREADS=2 $(PY) -m pytest tests/reproducibility -q -n $(JOBS)

test-site: venv browser
	$(PY) -m pytest tests/site -q

# On a GPU machine: keep the machine's own CUDA build of torch (a venv that sees
# the system site-packages), install everything else, and require the GPU.
VENV_GPU := .venv-gpu
test-gpu:
	@test -x $(VENV_GPU)/bin/python || $(PYTHON) -m venv --system-site-packages $(VENV_GPU)
	$(VENV_GPU)/bin/python -c "import torch" 2>/dev/null || $(VENV_GPU)/bin/python -m pip install --quiet torch
	grep -v '^torch==' requirements.txt > $(VENV_GPU)/requirements-without-torch.txt
	$(VENV_GPU)/bin/python -m pip install --quiet -r $(VENV_GPU)/requirements-without-torch.txt
	$(VENV_GPU)/bin/python -m pip install --quiet --no-deps -e .
	$(VENV_GPU)/bin/python -c "import torch; assert torch.cuda.is_available(), 'CUDA is not available'; print(torch.cuda.get_device_name())"
	DLNOTES_REQUIRE_GPU=1 $(VENV_GPU)/bin/python -m pytest tests -q --ignore=tests/site --ignore=tests/reproducibility
	DLNOTES_REQUIRE_GPU=1 $(VENV_GPU)/bin/python -m pytest notebooks -q $(NBVAL)

# A Chromium for the browser test: use one that is installed, else Debian's package.
browser:
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || command -v google-chrome >/dev/null \
	  || { echo "installing Debian's chromium for the browser test"; \
	       apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# Measure test and build times against their budgets (not part of `make test`).
benchmark: venv assets
	$(PY) -m tools.benchmark --out bench/report.json

clean:
	rm -rf _build _vendor
