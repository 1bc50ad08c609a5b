# Two commands set up everything on a fresh machine: `make serve` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
EXTRAS ?= asr,tts,mic,dev,bench,agent,mlx
MODELS ?= whisper-base whisper-tiny.en kokoro-82m
STAMP := $(VENV)/.installed
APT_PACKAGES ?= libportaudio2 chromium espeak-ng sox libopenblas0-pthread

.PHONY: install models sysdeps web serve test test-fast lint bench bench-quick bench-smoke bench-table clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[$(EXTRAS)]'
	# the TTS benchmarks' peer: its declared phonemizer would replace phonemizer-fork (same import), which has all it uses
	$(PY) -m pip install -q --no-deps kokoro-onnx==0.6.1
	touch $(STAMP)

install: $(STAMP)

models: install
	$(PY) -m streamvoice models install $(MODELS)
	$(PY) -m streamvoice models verify $(MODELS)

# Debian packages the tests use (PortAudio for sounddevice, Chromium for the browser test, OpenBLAS for MLX's CPU backend).
sysdeps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	  elif command -v sudo >/dev/null; then sudo apt-get update -q && sudo apt-get install -y -q $$missing; \
	  else echo "missing Debian packages:$$missing (install them, e.g. apt-get install$$missing)"; exit 1; fi; fi

# The caption page's npm packages (@msgpack/msgpack, served to the browser from clients/web/node_modules).
web:
	@if [ -f clients/web/package.json ]; then cd clients/web && npm install --no-audit --no-fund --loglevel=error; fi

serve: install models web
	$(PY) -m streamvoice serve --host 127.0.0.1 --port 8765

test: sysdeps install models web
	STREAMVOICE_REQUIRE_MODELS=1 $(PY) -m pytest -q

test-fast: install
	$(PY) -m pytest -q -m "not models and not browser"

# ruff, mypy, and the import-linter contracts of pyproject.toml (layers, the transport seam, no model class in the engine)
lint: install
	$(VENV)/bin/ruff check streamvoice tests bench
	$(VENV)/bin/mypy streamvoice
	$(VENV)/bin/lint-imports

# Full run: the reference figures in bench/results/ (committed), then README's Performance table from them.
bench: install models
	$(PY) -m bench.run_all
	$(PY) -m bench.table --write

# Quick run: small inputs, written only under bench/results/quick/.
bench-quick: install models
	$(PY) -m bench.run_all --quick

# Smoke pass (CI): every benchmark once on one short input, into bench/results/smoke/ (git-ignored).
bench-smoke: install models
	$(PY) -m bench.run_all --smoke

# README's Performance table from bench/results/*.json (after a benchmark was rerun alone).
bench-table: install
	$(PY) -m bench.table --write

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
