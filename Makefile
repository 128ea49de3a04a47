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

.PHONY: help venv vendor browser book student test test-lib test-notebooks test-book \
	test-browser test-colab notebooks latex pdf clean

help:
	@echo "make book       build the HTML book into _build/html"
	@echo "make test       library tests, strict nbval over every notebook, and the book build"
	@echo "make notebooks  re-execute the notebooks (fast mode) and store their outputs"
	@echo "make student    build the student edition (no solutions) into _build/student/html"
	@echo "make pdf        build a PDF of the whole book into _build/latex (installs TeX from Debian)"

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

student: $(STAMP) $(VENDOR)
	$(PY) tools/student_config.py .student-config.yml
	$(VENV)/bin/jupyter-book build . --config .student-config.yml --path-output _build/student-work $(JB_FLAGS)
	rm -rf _build/student/html && mkdir -p _build/student
	cp -r _build/student-work/_build/html _build/student/html
	@echo "Open file://$(CURDIR)/_build/student/html/index.html"

# TeX from Debian for the PDF (root, or passwordless sudo).
TEX_PACKAGES := texlive-latex-recommended texlive-latex-extra texlive-fonts-recommended \
	texlive-fonts-extra tex-gyre lmodern latexmk
latex:
	@command -v pdflatex >/dev/null && command -v latexmk >/dev/null || { \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && \
		$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(TEX_PACKAGES); }

pdf: $(STAMP) latex
	$(VENV)/bin/jupyter-book build . --builder pdflatex
	@echo "PDF: $$(ls $(CURDIR)/_build/latex/*.pdf)"

# Debian's Chromium and its driver for the browser test (root, or passwordless sudo).
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || { \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && \
		$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; }

test: test-lib test-notebooks test-book test-browser test-colab

test-lib: $(STAMP)
	$(PY) -m pytest tests --ignore=tests/browser --ignore=tests/colab

test-notebooks: $(STAMP)
	$(PY) -m pytest --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg \
		-p no:cacheprovider $(NOTEBOOKS) --durations=0

test-book: book student

# The built site and the student edition in headless Chromium; screenshots in _build/screenshots.
test-browser: $(STAMP) browser test-book
	$(PY) -m pytest tests/browser -p no:cacheprovider

# The Colab path: a wheel in a fresh venv runs one notebook per chapter with no checkout around.
test-colab: $(STAMP)
	$(PY) -m pytest tests/colab -p no:cacheprovider

notebooks: $(STAMP)
	$(PY) tools/notebooks.py $(NOTEBOOKS)

clean:
	rm -rf _build
