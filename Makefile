# dlnotes: build the book and run every check.  See README.md.
#   make book        build the HTML site (warnings are errors)
#   make test        unit tests, audits (check lint, device lint, number audit), every notebook
#                    under 2 seed offsets, pairing check, nbval on every notebook, reproducibility
#                    with the network blocked, book build, browser test
#   make test-seeds  every notebook under seed offsets 1-5; make test-faults: fault injection
#   make notebooks   rebuild notebooks/*.ipynb from notebooks/*.md (executes changed code)
# Both `book` and `test` create or refresh the virtual environment and assets first.

PYTHON  ?= python3
VENV    := .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.dlnotes-installed
ASSETS  := _vendor/site/mathjax/tex-svg-full.js
JOBS    ?= 2
NBVAL   := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg --nbval-cell-timeout=300

.PHONY: all venv assets book notebooks notebooks-force test test-unit test-notebooks test-repro test-book test-site test-gpu \
        test-audit test-seeds test-seeds-quick test-faults benchmark browser clean

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
test: test-unit test-audit test-notebooks test-repro test-book test-site
	@echo "make test: every check passed"

test-unit: venv assets
	$(PY) -m pytest tests -q --ignore=tests/site --ignore=tests/reproducibility

test-notebooks: venv
	OMP_NUM_THREADS=1 $(PY) -m pytest notebooks -q $(NBVAL) -n $(JOBS) --dist loadfile

# The static audits of the chapters (seconds): every check can fail, no random
# draw on the compute device, every number in the text backed by a check.  All
# three report before the target fails.
test-audit: venv
	@status=0; \
	$(PY) -m tools.lint_checks || status=1; \
	$(PY) -m tools.lint_device || status=1; \
	$(PY) -m tools.audit_numbers || status=1; \
	exit $$status

# Every check under other random draws (stored outputs are not compared).
# `make test` runs 2 offsets; `make test-seeds` runs 5.
SEED_OFFSETS ?= 1-5
test-seeds-quick: venv
	$(PY) -m tools.audit_seeds --offsets 1,2 -j $(JOBS)

test-seeds: venv
	$(PY) -m tools.audit_seeds --offsets $(SEED_OFFSETS) -j $(JOBS) --json bench/seeds.json

# A fault of one part in a million (an integer off by one, a boolean negated) in
# each dlnotes function the chapters call must make some check fail; the kill
# rate per function goes to bench/report.json.  Slow: run weekly by CI.
test-faults: venv
	$(PY) -m tools.faults -j $(JOBS) --report bench/report.json

# Every notebook once more, with 2 threads and the network blocked: at seed
# offset 0 its text outputs must equal the stored ones byte for byte, at offsets
# 1 and 2 every check must pass (the seed run of `make test`).  One kernel per
# worker serves all three runs.  In an empty network namespace when the machine
# allows one (root), always with a socket guard inside the kernel.
NETNS := $(shell unshare -n true 2>/dev/null && echo "unshare -n")
test-repro: venv
	$(NETNS) env OMP_NUM_THREADS=2 PYTHONPATH=tests/reproducibility/netguard \
	  $(PY) -m tools.audit_seeds --offsets 0,1,2 --compare-stored -j $(JOBS)
	$(NETNS) $(PY) -m pytest tests/reproducibility -q

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
