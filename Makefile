# dlnotes: build the book and run every check.  See README.md.
#   make book        build the HTML site (warnings are errors)
#   make test        unit tests, audits (check lint, device lint, number audit), pairing check,
#                    nbval on every notebook, reproducibility with the network blocked and the seed
#                    run at 2 offsets, book and PDF builds, student edition, browser test
#   make test-seeds  every notebook under seed offsets 1-5; make test-faults: fault injection
#   make test-load   the timing chapters three times beside two busy processes
#   make book-student  the student edition (no worked solutions) into _build/student/_build/html
#   make test-latest   unit tests and nbval with the newest releases instead of the pins (not in `make test`)
#   make notebooks   rebuild notebooks/*.ipynb from notebooks/*.md (executes changed code)
#   make lab         open the chapters in JupyterLab (a chapter's .md opens as a notebook)
# Both `book` and `test` create or refresh the virtual environment and assets first.

PYTHON  ?= python3
VENV    := .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.dlnotes-installed
ASSETS  := _vendor/site/mathjax/startup.js
JOBS    ?= 2
# An empty network namespace for notebook runs, where the machine allows one (root).
NETNS   := $(shell unshare -n true 2>/dev/null && echo "unshare -n")
# -p tools.kernels: kernels on Unix sockets, which no other process can take (tools/kernels.py).
NBVAL   := -p tools.kernels --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg --nbval-cell-timeout=300

.PHONY: all venv assets book pdf notebooks notebooks-force lab book-student test-latest test test-unit test-notebooks \
        test-repro test-book test-pdf test-student test-site test-links test-gpu test-audit test-seeds test-seeds-quick \
        test-faults test-load benchmark browser clean

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

# Only the MathJax components the pages load (listed in tools/sphinx_site.py).
$(ASSETS): node_modules/.package-lock.json tools/sphinx_site.py
	rm -rf $(dir $@) && mkdir -p $(dir $@)
	cd node_modules/mathjax/es5 && cp -r --parents $(shell $(PYTHON) -m tools.sphinx_site) $(CURDIR)/$(dir $@)

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
	@echo '{"@jupyterlab/docmanager-extension:plugin": {"defaultViewers": {"markdown": "Jupytext Notebook", "myst": "Jupytext Notebook"}}}' > $(LAB_SETTINGS)
	$(VENV)/bin/jupyter lab --ServerApp.ip=127.0.0.1 --ServerApp.root_dir=$(CURDIR) --ServerApp.preferred_dir=$(CURDIR)/notebooks \
	  $(if $(filter 0,$(shell id -u)),--allow-root)

# ----------------------------------------------------------------------------- book
BUILD_BOOK := $(VENV)/bin/jupyter-book build . -W -n --keep-going
# The PDF edition: a single-page build from the same execution cache, printed by
# Chromium (tools/pdf.py), copied into the site, which links to it.
BUILD_PDF  := $(VENV)/bin/jupyter-book build . --builder singlehtml -W -n --keep-going \
              && $(PY) -m tools.pdf --copy-to _build/html/dlnotes.pdf

# Executes every notebook whose code (or the library) changed, two at a time,
# then builds; a failing cell fails the build.
book: venv assets browser
	$(PY) -m tools.notebooks guard-cache _build
	$(PY) -m tools.notebooks prefill-cache _build
	$(BUILD_BOOK)
	$(BUILD_PDF)
	@echo "The book is at file://$(CURDIR)/_build/html/index.html (PDF edition: _build/pdf/dlnotes.pdf)"

# The whole book as one PDF (the site build's cache is reused; nothing executes twice).
pdf: venv assets browser
	$(PY) -m tools.notebooks guard-cache _build
	$(PY) -m tools.notebooks prefill-cache _build
	$(BUILD_PDF)

# The student edition: the same pages without the exercises' worked solutions
# (tools/sphinx_edition.py); the answer-checker cells stay.  It reads the same
# execution cache as `make book`, so it executes nothing `make book` has run.
STUDENT := _build/student
book-student: venv assets
	$(PY) -m tools.notebooks guard-cache _build
	$(PY) -m tools.notebooks guard-cache $(STUDENT)/_build
	$(PY) -m tools.notebooks prefill-cache _build
	DLNOTES_EDITION=student $(BUILD_BOOK) --path-output $(STUDENT)
	@echo "The student edition is at file://$(CURDIR)/$(STUDENT)/_build/html/index.html"

# Within `make test`, nbval has just executed every notebook and found the
# stored outputs equal to its run; the build takes those verified outputs
# instead of executing them again.
test-book: venv assets browser
	$(PY) -m tools.notebooks guard-cache _build
	$(PY) -m tools.notebooks seed-cache _build
	$(BUILD_BOOK)
	$(BUILD_PDF)

test-pdf: test-book
	$(PY) -m pytest tests/pdf -q

# ----------------------------------------------------------------------------- tests
test: test-unit test-audit test-notebooks test-seeds-quick test-book test-pdf test-student test-site
	@echo "make test: every check passed"

test-unit: venv assets
	$(PY) -m pytest tests -q -n $(JOBS) --ignore=tests/site --ignore=tests/reproducibility --ignore=tests/pdf --ignore=tests/student

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
# The seed run of `make test`: offsets 1 and 2, with the network blocked (an empty
# network namespace where the machine allows one, and a socket guard in the kernel).
test-seeds-quick: venv
	$(NETNS) env PYTHONPATH=tests/reproducibility/netguard $(PY) -m tools.audit_seeds --offsets 1,2 -j $(JOBS)
	$(NETNS) $(PY) -m pytest tests/reproducibility -q

test-seeds: venv
	$(PY) -m tools.audit_seeds --offsets $(SEED_OFFSETS) -j $(JOBS) --json bench/seeds.json

# The timing chapters while both cores are kept busy by other processes
# (tools/busy.py), three times: every check, timing hypotheses included, must
# pass on a loaded machine.  Not in `make test` (about 3 minutes).
TIMING_NOTEBOOKS := notebooks/linear_attention.ipynb notebooks/sequence_model_cost.ipynb notebooks/token_mixing.ipynb
test-load: venv
	@for run in 1 2 3; do \
	  echo "test-load: run $$run of 3"; \
	  OMP_NUM_THREADS=1 $(PY) -m tools.busy --workers 2 -- $(PY) -m pytest $(TIMING_NOTEBOOKS) -q $(NBVAL) -p no:cacheprovider || exit 1; \
	done

# A fault of one part in a million (an integer off by one, a boolean negated) in
# each dlnotes function the chapters call must make some check fail; the kill
# rate per function goes to bench/report.json.  Slow: run weekly by CI.
test-faults: venv
	$(PY) -m tools.faults -j $(JOBS) --report bench/report.json

# Every notebook once more, with 2 threads and the network blocked: at seed
# offset 0 its text outputs must equal the stored ones byte for byte, at offsets
# 1 and 2 every check must pass.  One kernel per worker serves all three runs.
# Not in `make test`, where nbval (one thread) already compares every result
# with the stored outputs (made with the machine's default thread count) and
# test-seeds-quick runs offsets 1 and 2 with the network blocked.
test-repro: venv
	$(NETNS) env OMP_NUM_THREADS=2 PYTHONPATH=tests/reproducibility/netguard \
	  $(PY) -m tools.audit_seeds --offsets 0,1,2 --compare-stored -j $(JOBS)
	$(NETNS) $(PY) -m pytest tests/reproducibility -q

# After test-book: builds the student edition from the same cache and compares
# it with the full site (no solutions, checkers kept, stamps on every chapter).
test-student: venv assets
	$(PY) -m pytest tests/student -q

# The built site in headless Chromium: offline, axe-core in light and dark mode, 390 px layout,
# bytes per chapter page, and the lychee link check (test-links runs that one alone).
# One worker: Chromium's own processes use both cores, and two browsers side by
# side were slower than one (170 s against about 120 s for the whole site).
test-site: venv browser
	$(PY) -m pytest tests/site -q

test-links: venv
	$(PY) -m pytest tests/site/test_links.py -q

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
	DLNOTES_REQUIRE_GPU=1 $(VENV_GPU)/bin/python -m pytest tests -q --ignore=tests/site --ignore=tests/reproducibility \
	  --ignore=tests/pdf --ignore=tests/student
	DLNOTES_REQUIRE_GPU=1 $(VENV_GPU)/bin/python -m pytest notebooks -q $(NBVAL)

# The compatibility window (not part of `make test`): a separate venv with the
# newest numpy, matplotlib, SymPy, Jupyter stack (jupyterlab, jupytext, ipykernel,
# nbval) and the newest CPU build of torch instead of the pins, then the unit
# tests and nbval on every notebook.  The CPU build comes from PyTorch's CPU index
# (plain `pip install torch` pulls a CUDA build of several GB).  Where that index
# is not reachable, name another source, e.g. the local CPU wheel:
#   make test-latest TORCH_LATEST_INDEX= TORCH_LATEST=torch==2.13.0
VENV_LATEST        := .venv-latest
TORCH_LATEST       ?= torch
TORCH_LATEST_INDEX ?= https://download.pytorch.org/whl/cpu
LATEST_UNPINNED    := torch|numpy|matplotlib|sympy|jupyterlab|jupytext|ipykernel|nbval|pytest
test-latest: assets
	@test -x $(VENV_LATEST)/bin/python || $(PYTHON) -m venv $(VENV_LATEST)
	$(VENV_LATEST)/bin/python -m pip install --quiet --upgrade pip
	$(VENV_LATEST)/bin/python -m pip install --quiet --upgrade $(if $(TORCH_LATEST_INDEX),--index-url $(TORCH_LATEST_INDEX)) "$(TORCH_LATEST)"
	grep -v -E '^($(LATEST_UNPINNED))([=<>~ ]|$$)' requirements.txt > $(VENV_LATEST)/requirements-pinned-rest.txt
	$(VENV_LATEST)/bin/python -m pip install --quiet --upgrade numpy matplotlib sympy jupyterlab jupytext ipykernel \
	  jupyter_client nbclient nbformat nbval pytest -r $(VENV_LATEST)/requirements-pinned-rest.txt
	$(VENV_LATEST)/bin/python -m pip install --quiet --no-deps -e .
	$(VENV_LATEST)/bin/python -m dlnotes.doctor --no-smoke || test $$? -eq 3
	$(VENV_LATEST)/bin/python -m pytest tests -q --ignore=tests/site --ignore=tests/reproducibility --ignore=tests/pdf \
	  --ignore=tests/student
	OMP_NUM_THREADS=1 $(VENV_LATEST)/bin/python -m pytest notebooks -q $(NBVAL) -n $(JOBS) --dist loadfile

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
