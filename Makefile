# The course's two commands: `make book` builds the book, `make test` runs every test.
# Both create .venv from requirements.txt on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: book test unit notebooks book-strict colab colab-check browser lab bench seeds curves train train-gpu unpack-zoo refresh-outputs clean

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	# setuptools warns that the package name is also a folder here: true, and intended (editable install).
	PYTHONWARNINGS=ignore $(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

## book: execute every chapter and build the HTML book into _build/html
book: $(STAMP)
	$(BIN)/jupyter-book build . --all

## test: unit tests, every notebook under nbval, the strict book build, fresh Colab copies, the browser check
test: unit notebooks book-strict colab-check browser

# One pytest-xdist worker per core (tests/conftest.py gives each worker its share of torch's threads).
unit: $(STAMP)
	$(BIN)/python -m pytest tests -q -n auto

# A cell that takes 10 minutes (most take under a second) means a kernel lost a reply: fail, do not wait.
# Chapters run side by side, one per core, each kernel on one thread, with the book's build flag:
# each chapter that passes goes to the book's cache, and the book build that follows does not run it again
# (utils/reader/book_cache.py says why and when a cached run is not used).
NBVAL_WORKERS ?= auto
notebooks: $(STAMP)
	COURSE_BOOK_BUILD=1 OMP_NUM_THREADS=1 $(BIN)/python -m pytest --nbval-lax --nbval-cell-timeout 600 --nbval-sanitize-with tests/nbval_sanitize.cfg \
	-p tests.nbval_book_cache -n $(NBVAL_WORKERS) --dist loadscope lectures -q

# Zero warnings, no cell errors. A cell that takes 90% of its timeout fails the build, named (book/_ext/course_build.py).
book-strict: $(STAMP)
	$(BIN)/jupyter-book build . --all -W -n --keep-going

## colab: write the Colab copies of the chapters from the last book build (commit them)
colab: $(STAMP)
	$(BIN)/python -m utils.reader.colab

colab-check: $(STAMP)
	$(BIN)/python -m utils.reader.colab --check

browser: $(STAMP)
	$(BIN)/python -m tests.browser_check _build/html

## lab: JupyterLab on the chapters, in the course's environment
lab: $(STAMP)
	$(BIN)/python -m pip install --quiet jupyterlab
	$(BIN)/jupyter lab lectures

## bench: the speed and size table
bench: $(STAMP)
	$(BIN)/python -m utils.zoo.bench

## seeds: retrain the models chapters 3, 4, 5, 7, 8 and 9 compare with seeds 1 and 2, and score the shipped ones (seed 0)
## on the same scenes, with the chapters' own measures (utils.zoo.seed_measures); the scores go to
## utils/weights/seeds.json, the weights to runs/seeds/ (not committed)
SEED_MODELS ?= singlescale multiscale half_only quarter_only wide_singlescale recurrent recurrent_one_pass \
	recurrent_untied recurrent_last_loss recurrent_detached fcn32s fcn16s fcn8s fcn32s_long fcn8s_fixed_bilinear \
	avgpool maxpool attention downsampled glimpse glimpse_zero_padding scale_average scale_max scale_attention \
	small_plain small_augmented rare_ce rare_weighted rare_dice rare_focal sds cfm last_layer hypercolumn maskrcnn
seeds: $(STAMP)
	$(BIN)/python -m utils.zoo.seeds $(SEED_MODELS)

## curves: the learning curves of models trained before curves were kept, each from a CPU retraining that
## reproduces the shipped weights bit for bit (checked by SHA-256; nothing is written otherwise)
CURVE_MODELS ?= patchnet multiscale_dropout singlescale multiscale half_only quarter_only wide_singlescale recurrent \
	recurrent_untied recurrent_last_loss recurrent_detached fcn32s fcn16s fcn8s fcn8s_fixed_bilinear fcn32s_long
curves: $(STAMP)
	$(BIN)/python -m utils.zoo.recorded_curves $(CURVE_MODELS)

## train: retrain the whole demo zoo (GPU if present)
train: $(STAMP)
	$(BIN)/python -m utils.train --all

## train-gpu: on a CUDA machine that already has torch & co. (no .venv, no network): retrain the whole zoo,
## every model the chapters compare by seed on seeds 1 and 2 (utils/weights/seeds.json), and pack both into
## $(GPU_OUT)/zoo.tar.gz. Dry run on a CPU, in a scratch copy of the repository:
## make train-gpu DEVICE=cpu STEPS=5 EVAL_SCENES=4
GPU_OUT ?= gpu_out
DEVICE ?= cuda
STEPS ?=
EVAL_SCENES ?=
TRAIN_FLAGS = --device $(DEVICE) $(if $(STEPS),--steps $(STEPS) --replace-shipped) $(if $(EVAL_SCENES),--eval-scenes $(EVAL_SCENES))
train-gpu:
	$(PYTHON) -c "import sys, torch; sys.exit(0 if '$(DEVICE)' != 'cuda' or torch.cuda.is_available() else 'train-gpu: torch sees no CUDA GPU')"
	mkdir -p $(GPU_OUT)
	$(PYTHON) -m utils.train --all $(TRAIN_FLAGS)
	$(PYTHON) -m utils.zoo.seeds $(SEED_MODELS) --device $(DEVICE) $(if $(STEPS),--steps $(STEPS))
	$(PYTHON) -m utils.zoo.archive pack $(GPU_OUT)/zoo.tar.gz --extra utils/weights/seeds.json

## unpack-zoo: check and install an archive from train-gpu (ARCHIVE=...), then refresh the checked outputs
unpack-zoo: $(STAMP)
	$(BIN)/python -m utils.zoo.archive unpack $(ARCHIVE)
	$(MAKE) refresh-outputs

## refresh-outputs: re-execute every chapter and keep only the outputs nbval compares
refresh-outputs: $(STAMP)
	$(BIN)/python -m tests.notebook_outputs lectures/*.ipynb

clean:
	rm -rf _build
