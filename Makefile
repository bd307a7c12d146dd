# medallion — build, run and test the DuckDB extension.
#
# Caches live outside the clone so reruns (and CI on the same machine) are
# fast: cargo's target dir and pip's download cache under ~/.cache/medallion.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

CACHE            ?= $(HOME)/.cache/medallion
export CARGO_TARGET_DIR ?= $(CACHE)/target
export PIP_CACHE_DIR    ?= $(CACHE)/pip
PYTHON           ?= python3

VENV       := .venv
PY         := $(VENV)/bin/python
DUCKDB_CLI := $(VENV)/bin/duckdb
BUILD      := build/release
EXT        := $(BUILD)/medallion.duckdb_extension
VERSION    := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)

ORT_VERSION := 1.32.0
ORT_LIB     := $(BUILD)/libonnxruntime.so.$(ORT_VERSION)

.PHONY: all build ext ort default-model venv run test test-rust test-sql test-py bench lint clean

all: build

## build: the loadable extension with ONNX Runtime and the default model next to it
build: ext ort default-model

# Always ask cargo (it is incremental); re-append the footer to a fresh copy.
ext:
	cargo build --release -p medallion
	@mkdir -p $(BUILD)
	$(PYTHON) extension/scripts/append_footer.py $(CARGO_TARGET_DIR)/release/libmedallion.so $(EXT) \
	    --extension-version v$(VERSION)
	@echo "built $(EXT)"

# ONNX Runtime's shared library comes from the PyPI wheel (no other source is
# reachable); the extension looks for it next to itself.
ort: $(ORT_LIB)
$(ORT_LIB):
	@mkdir -p $(BUILD) $(CACHE)/wheels
	$(PYTHON) -m pip download --quiet onnxruntime==$(ORT_VERSION) --no-deps --only-binary=:all: \
	    --platform manylinux_2_28_x86_64 --python-version 3.11 -d $(CACHE)/wheels
	$(PYTHON) -c 'import sys, zipfile, shutil; \
	    z = zipfile.ZipFile(sys.argv[1]); \
	    shutil.copyfileobj(z.open("onnxruntime/capi/libonnxruntime.so." + sys.argv[2]), open(sys.argv[3], "wb"))' \
	    $$(ls $(CACHE)/wheels/onnxruntime-$(ORT_VERSION)-*.whl | head -n1) $(ORT_VERSION) $@
	ln -sf libonnxruntime.so.$(ORT_VERSION) $(BUILD)/libonnxruntime.so

# The shipped sentiment models (models/<name>/ with a model.onnx: default,
# and fast when it is there) go next to the extension, where
# bert_sentiment's built-in default (bert_sentiment_model) and its
# by-name choice (SET bert_sentiment_model = 'fast') look for them.
default-model:
	@if [ ! -f models/default/model.onnx ]; then \
	    echo "note: models/default/model.onnx is missing; bert_sentiment needs SET bert_sentiment_model or a model argument"; \
	fi
	@for src in models/*/; do \
	    name=$$(basename $$src); dst=$(BUILD)/models/$$name; \
	    if [ -f $$src/model.onnx ]; then \
	        mkdir -p $$dst && cp -p $$src/model.onnx $$src/tokenizer.json $$src/config.json $$dst/; \
	        for f in README.md expected.json; do if [ -f $$src/$$f ]; then cp -p $$src/$$f $$dst/; fi; done; \
	    fi; \
	done

## venv: the pinned DuckDB CLI and Python hosts (and test tools)
venv: $(VENV)/.installed
$(VENV)/.installed: test/requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -r test/requirements.txt
	touch $@

## run: build everything, land the shipped sample in landing/ and run the
## pipeline (bronze, silver, gold, metrics, analyses) until it is drained
run: build venv
	$(PYTHON) tools/stream.py --landing landing --quiet
	$(PY) tools/pipeline.py --landing landing --lake lake --reports reports

## stream-run: the pipeline as a streaming job: tweets land every 2 s, passes
## run as they arrive, until Ctrl-C (or 60 s without new files)
stream-run: build venv
	$(PYTHON) tools/stream.py --landing landing --interval 2 --quiet & \
	  trap 'kill $$! 2>/dev/null' EXIT; \
	  $(PY) tools/pipeline.py --landing landing --lake lake --reports reports --follow --max-idle 60

.PHONY: stream stream-run generate model

## model: rebuild the shipped default model from scratch (torch venv under
## ~/.cache/medallion, ~40 min on 2 cores; not part of make test)
model:
	bash models/build_default.sh

## stream: replay the shipped sample into landing/ as raw tweet JSON files
stream:
	$(PYTHON) tools/stream.py --landing landing

## generate: GEN_ROWS synthetic tweets for benchmarks, as landing files in generated/landing/
GEN_ROWS ?= 1000000
generate:
	$(PYTHON) tools/generate.py --rows $(GEN_ROWS)

## test: formatting, lints, Rust tests, the SQL tests in both hosts, and the Python tests
test: lint test-rust test-sql test-py
	@echo "make test: all checks passed"

lint:
	cargo fmt --all -- --check
	cargo clippy --release --all-targets -- -D warnings

# --release shares compiled dependencies with the extension build.
test-rust:
	cargo test --release

test-sql: build venv
	$(PY) test/sqllogictest.py --extension $(EXT) --cli $(DUCKDB_CLI) test/sql/*.test

# Python-host tests: Delta interop with the `deltalake` package, concurrent
# writers and SIGKILL crash recovery, driving the real hosts.
test-py: build venv
	$(PY) -m pytest -q test/python

## bench: the benchmarks in test/bench/ (not part of make test); results in docs/benchmarks.md
bench: build venv
	$(PY) -m pip install --quiet -r test/bench/requirements.txt
	$(PY) test/bench/doc_section.py start
	@for b in test/bench/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done
	$(PY) test/bench/doc_section.py end

clean:
	rm -rf build
	cargo clean
