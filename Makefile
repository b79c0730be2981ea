# The course's two commands: `make book` builds the book, `make test` runs every test.
# Both create .venv from requirements.txt on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: book test unit notebooks book-strict browser lab bench train clean

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

## book: execute every chapter and build the HTML book into _build/html
book: $(STAMP)
	$(BIN)/jupyter-book build . --all

## test: unit tests, every notebook under nbval, the strict book build, the browser check
test: unit notebooks book-strict browser

unit: $(STAMP)
	$(BIN)/python -m pytest tests -q

notebooks: $(STAMP)
	$(BIN)/python -m pytest --nbval-lax --nbval-sanitize-with tests/nbval_sanitize.cfg lectures -q

book-strict: $(STAMP)
	$(BIN)/jupyter-book build . --all -W -n --keep-going

browser: $(STAMP)
	$(BIN)/python -m tests.browser_check _build/html

## lab: JupyterLab on the chapters, in the course's environment
lab: $(STAMP)
	$(BIN)/python -m pip install --quiet jupyterlab
	$(BIN)/jupyter lab lectures

## bench: the speed and size table
bench: $(STAMP)
	$(BIN)/python -m utils.bench

## train: retrain the whole demo zoo (GPU if present)
train: $(STAMP)
	$(BIN)/python -m utils.train --all

clean:
	rm -rf _build
